from qa.dashboard.views.queues import render_review

render_review()
