"""The Streamlit dashboard: supervisors, operators, QA leads and admins.

Pages never transcribe or score themselves: they read the store through ``qa.store.queries``
and ``qa.dashboard.access`` (which enforces who may see what, server-side) and hand long work
(ingest, re-scoring) to background jobs in ``qa.dashboard.jobs``.
"""
