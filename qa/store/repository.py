"""``Store``: the one object callers hold. Every write goes through it (one transaction per
call, copies and rollups kept in step); reads for the dashboard, calibration, training and
rescore are the named functions of ``qa.store.queries``, ``qa.store.labels`` and
``qa.store.rescoring``.

    store = open_store()                 # QA_DATABASE_URL or the SQLite file in QA_DATA_DIR
    store.add_call(CallRecord(...))      # call + transcript + evaluation + metrics, atomically
    store.override(call_id, "saluto", "pass", "anna", "heard it")

``Store`` is composed of one part per concept, each in its own module:

- ``qa.store.calls.CallsMixin``: calls, transcripts, evaluations, metrics (rollup upkeep);
- ``qa.store.reviews.ReviewsMixin``: overrides and disputes;
- ``qa.store.users.UsersMixin``: accounts, sign-in, audit log;
- ``qa.store.rubrics.RubricVersionsMixin``: stored rubric versions;
- ``qa.store.failures.FailuresMixin``: inputs ingest could not store;

on ``qa.store.base.StoreBase`` (engine, sessions). Returned ORM objects are detached but
loaded: read their columns freely, change them only through ``Store`` methods.
"""

from __future__ import annotations

from .calls import CallsMixin
from .failures import FailuresMixin
from .records import CallRecord, evaluation_from_row, is_compliance_issue, parse_timestamp, search_text
from .reviews import ReviewsMixin
from .rubrics import RubricVersionsMixin
from .users import UsersMixin

__all__ = ["Store", "CallRecord", "evaluation_from_row", "is_compliance_issue", "parse_timestamp", "search_text"]


class Store(CallsMixin, ReviewsMixin, UsersMixin, RubricVersionsMixin, FailuresMixin):
    """The call store (SQLite or PostgreSQL): see the module docstring for its parts.
    ``open_store()`` makes one with the schema at the newest migration."""

    def __enter__(self) -> "Store":
        return self
