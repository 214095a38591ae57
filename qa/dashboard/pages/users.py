from qa.dashboard.views.users import render

render()
