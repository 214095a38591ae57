"""Ascolto dashboard. Run with `streamlit run app_streamlit.py` or `qa serve` (the same thing).

Configured by the same settings as the CLI: QA_DATABASE_URL, QA_DATA_DIR (see qa/config.py).

This file is two things at once. Imported by `streamlit run` (which finds ``app`` below), it is
the web server: Streamlit's own routes plus the sign-in routes and the session middleware of
qa/dashboard/web.py. Run by Streamlit for every browser session (as ``__main__``), it is the
dashboard script, which resolves the session cookie on every run (qa/dashboard/app.py).
"""

import streamlit as st

from qa.dashboard.web import lifespan, middleware, routes

# Uncaught exceptions show a generic message, never the type, message or traceback. ("none": in
# Streamlit 1.67 the legacy value `false` still shows the stack trace.) Also in .streamlit/config.toml
# and on the `qa serve` command line.
st.set_option("client.showErrorDetails", "none")

app = st.App(__file__, routes=routes(), middleware=middleware(), lifespan=lifespan)

if __name__ == "__main__":
    from qa.dashboard.app import main

    main()
