from qa.dashboard.views.queues import render_disputes

render_disputes()
