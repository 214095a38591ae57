from qa.dashboard.views.upload import render

render()
