"""One module per page; each page function gets its context from ``qa.dashboard.app.context``."""
