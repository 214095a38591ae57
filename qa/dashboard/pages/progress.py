from qa.dashboard.views.operator import render_trend

render_trend()
