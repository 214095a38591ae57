"""Running work items in parallel for ``qa ingest`` and ``qa rescore``: in this process (one
worker), in a local process pool, or on a Dask distributed cluster, with at most a window of
items in flight and each result handed to the parent as it completes."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import islice
from typing import Any

from .errors import QAError


def _init_worker() -> None:
    """Pool worker set-up: exit as soon as the parent is gone (``kill -9`` of ``qa ingest``
    must not leave workers transcribing for nobody)."""
    import threading

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


class Serial:
    """In-process 'executor' (workers=1): same interface, no pickling, easier debugging."""

    def submit(self, fn: Callable, *args: Any) -> Future:
        """Run ``fn(*args)`` now; its result or exception in a completed Future."""
        f: Future = Future()
        try:
            f.set_result(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed to the caller like a pool would
            f.set_exception(e)
        return f

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Nothing to stop."""


def local_executor(workers: int):
    """An executor of ``workers`` processes (spawned; each exits when the parent is gone), or
    ``Serial`` for one worker."""
    if workers <= 1:
        return Serial()
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)


def dask_executor(scheduler: str):
    """An executor over the Dask cluster at ``scheduler`` (``n_workers``: its task slots); QAError
    (one line) when it cannot be reached."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a core dependency
        raise QAError("--scheduler needs dask[distributed] installed") from None
    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise QAError(f"cannot reach the Dask scheduler at {scheduler}: {' '.join(str(e).split())}") from None
    executor = client.get_executor(pure=False)

    class _DaskExecutor:
        """Submits to the cluster; shutting it down closes the client."""

        n_workers = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))

        def submit(self, fn, *args):
            return executor.submit(fn, *args)

        def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
            try:
                executor.shutdown(wait=wait)
            finally:
                client.close()

    return _DaskExecutor()


def run_all(items: list, fn: Callable, settings: Any, executor, window: int,
         on_result: Callable[[Any, Any, BaseException | None], None]) -> None:
    """Submit ``fn(item, settings)`` for every item with at most ``window`` in flight, calling
    ``on_result(item, result, error)`` in the parent as each one completes."""
    it = iter(items)
    pending: dict[Future, Any] = {}

    def fill() -> None:
        while len(pending) < window:
            item = next(it, None)
            if item is None:
                return
            pending[executor.submit(fn, item, settings)] = item

    fill()
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for f in done:
            item = pending.pop(f)
            try:
                result = f.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as e:  # noqa: BLE001 - the worker died (BrokenProcessPool) or similar
                on_result(item, None, e)
            else:
                on_result(item, result, None)
        fill()


def progress_bar(total: int, enabled: bool | None, desc: str = "ingest"):
    """A tqdm bar on stderr (``enabled`` None: only on a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True, smoothing=0.1,
                disable=(not enabled) if enabled is not None else None, desc=desc)


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def batches(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily (itertools.batched is 3.12)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def one_blas_thread(fn):
    """Run ``fn`` with one OpenBLAS/BLAS thread. Fitting (scikit-learn's L-BFGS) makes many small
    BLAS calls whose threads spin-wait for each other whenever another process holds a core: on
    2 shared cores `qa train --criterion empatia` took 33.8 s of CPU with OpenBLAS's default (one
    thread per core) and 7.0 s with one thread, the same held-out accuracy (issue 15). Only
    training: transcription keeps the default (its features change in the last bits otherwise)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # scikit-learn's own dependency: present wherever training runs
            return fn(*args, **kwargs)
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper
