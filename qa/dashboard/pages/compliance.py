from qa.dashboard.views.queues import render_compliance

render_compliance()
