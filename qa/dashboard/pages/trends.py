from qa.dashboard.views.trends import render

render()
