from qa.dashboard.views.detail import render

render()
