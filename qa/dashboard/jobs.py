"""Background jobs of the dashboard (upload processing, re-scoring after a rubric is published).

A job runs in a thread of the Streamlit server process; pages poll its progress. Jobs live in
a process-wide registry (one per server), so a page reload or another user sees them too.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Job:
    """A background job: kind, owner, progress (total/done/failed), status and one-line messages."""
    id: str
    kind: str
    owner: str
    total: int = 0
    done: int = 0
    failed: int = 0
    status: str = "running"  # running | done | error
    messages: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] for a progress bar."""
        return 1.0 if self.total == 0 and self.status != "running" else (self.done / self.total if self.total else 0.0)


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def start(kind: str, owner: str, work: Callable[[Job], None]) -> Job:
    """Run ``work(job)`` in a daemon thread; ``work`` updates job.total/done/failed/messages."""
    job = Job(uuid.uuid4().hex[:12], kind, owner)
    with _LOCK:
        _JOBS[job.id] = job

    def run() -> None:
        try:
            work(job)
            job.status = "done"
        except Exception as e:  # shown to the user as one line; details in the server log
            job.status = "error"
            job.messages.append(f"{type(e).__name__}: {' '.join(str(e).split())}")
            traceback.print_exc()
        finally:
            job.finished_at = time.time()

    threading.Thread(target=run, name=f"qa-job-{job.id}", daemon=True).start()
    return job


def get(job_id: str) -> Job | None:
    """The job with this id, or None."""
    return _JOBS.get(job_id)


def jobs(kind: str | None = None) -> list[Job]:
    """Every job (of ``kind``), in the order they started."""
    with _LOCK:
        return [j for j in _JOBS.values() if kind is None or j.kind == kind]
