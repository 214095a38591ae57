from qa.dashboard.views.qa_lead import render_calibration

render_calibration()
