from qa.dashboard.views.queues import render_sample

render_sample()
