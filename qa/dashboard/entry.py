"""Ascolto dashboard. Run with `streamlit run app_streamlit.py` or `qa serve`.

Configured by the same settings as the CLI: QA_DATABASE_URL, QA_DATA_DIR (see qa/config.py).
"""

from qa.dashboard.app import main

main()
