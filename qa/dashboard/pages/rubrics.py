from qa.dashboard.views.qa_lead import render_editor

render_editor()
