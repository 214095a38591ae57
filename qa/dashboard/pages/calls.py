from qa.dashboard.views.calls import render

render()
