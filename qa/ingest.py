"""Batch ingest: recordings (or Transcript JSON files from a recording platform) ->
transcript, evaluation, metrics -> the store. Also ``rescore``: re-evaluate stored transcripts.

    report = ingest(["calls/"], store, IngestSettings(...), workers=2)

How it behaves
- Idempotent: the key is the SHA-256 of the input file; a file already stored is skipped
  before any work (``qa ingest`` twice adds nothing). Two identical files in one batch: the
  second is skipped as a duplicate.
- Resumable: each call is written in ONE transaction (call, transcript, evaluation, criterion
  results, metrics, rollups) by the parent process, and the unique checksum makes a second
  write a no-op; after a crash or ``kill -9`` the same command carries on where it stopped.
- Failures (unreadable, empty, truncated, not audio, silent, bad JSON...) are recorded in the
  store's ``failures`` table with one line of reason (``qa failures``); a later success
  removes the entry. Nothing is retried within a run.
- Parallel: locally a process pool (workers transcribe + score, the parent writes); with
  ``scheduler="tcp://host:port"`` the same work runs on a Dask distributed cluster (every
  worker needs ascolto installed and, for audio, the input paths and the data directory at the
  same place: shared storage).
- Recordings (``keep_originals``, env ``QA_KEEP_ORIGINALS``, default on): the store refers to
  the original file where it is. Off: the store keeps its own copy under
  ``$QA_DATA_DIR/recordings/`` (only the redacted copy when redaction is on).
- Redaction (default on): the stored transcript and the evidence texts have personal data
  masked (``qa.redact``); for audio a copy with those spans silenced is written to
  ``$QA_DATA_DIR/recordings/``. Scoring and metrics run on the original transcript (the name
  criterion needs the name), before masking.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from . import config
from .errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, AudioError, QAError
from .model import Evaluation, Transcript

AUDIO_EXTENSIONS = {".wav", ".wave", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".mp4", ".aac", ".webm",
                    ".mka", ".aif", ".aiff", ".caf", ".w64"}
TRANSCRIPT_EXTENSIONS = {".json"}
FALSE_WORDS = {"0", "false", "no", "off", "n"}


def keep_originals_setting() -> bool:
    """``QA_KEEP_ORIGINALS`` (default on): refer to recordings where they are instead of copying."""
    return os.environ.get("QA_KEEP_ORIGINALS", "1").strip().lower() not in FALSE_WORDS


@dataclass
class IngestSettings:
    """What every worker needs (picklable: it travels to processes and Dask workers)."""

    transcribe: Any = None  # qa.transcribe.TranscribeOptions (None: defaults)
    rubric: str | None = None  # None: the rubric of the call's call_type (inferred when absent)
    redact: bool = True
    keep_originals: bool = True
    data_dir: str = ""
    metrics: bool = True
    score: bool = True


@dataclass
class WorkItem:
    path: str  # absolute (symlinks not resolved: the failure is reported under the given name)
    kind: str  # audio | transcript
    checksum: str
    metadata: dict[str, Any] | None = None


@dataclass
class IngestReport:
    inputs: int = 0
    stored: int = 0
    skipped: int = 0  # already in the store, or a duplicate within the batch
    failed: int = 0
    audio_seconds: float = 0.0  # duration of the calls stored in this run
    wall_seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.failed == 0 and not self.interrupted:
            return EXIT_OK
        if self.stored + self.skipped == 0:
            return EXIT_FAILED
        return EXIT_PARTIAL

    def summary(self) -> str:
        hours = self.audio_seconds / 3600.0
        speed = f", {hours / (self.wall_seconds / 3600.0):.1f} audio h per wall h" if self.wall_seconds > 0 and \
            self.audio_seconds > 0 else ""
        return (f"{self.stored} stored, {self.skipped} already stored/duplicate, {self.failed} failed "
                f"of {self.inputs} inputs ({self.audio_seconds / 60:.1f} min of calls in "
                f"{self.wall_seconds:.0f} s{speed})")


# ---------------------------------------------------------------------------------- discovery
def _kind(p: Path) -> str | None:
    ext = p.suffix.lower()
    if ext in AUDIO_EXTENSIONS:
        return "audio"
    if ext in TRANSCRIPT_EXTENSIONS:
        return "transcript"
    return None


def discover(inputs: Iterable[str | os.PathLike]) -> list[tuple[Path, str]]:
    """(path, kind) for every input: files given by name (any extension: not .json = audio),
    and in folders, recursively, every entry with an audio or .json extension, even one that
    is a broken link or a folder (it then fails with a reason, rather than vanishing). A JSON
    next to a recording with the same stem is taken as that recording's sidecar and skipped."""
    found: list[tuple[Path, str]] = []
    for raw in inputs:
        p = Path(os.path.abspath(os.fspath(raw)))
        if p.is_dir() and _kind(p) is None:
            for root, dirs, files in os.walk(p):
                dirs.sort()
                rootp = Path(root)
                entries = [(n, False) for n in files] + [(n, True) for n in dirs if _kind(Path(n))]
                dirs[:] = [d for d in dirs if _kind(Path(d)) is None]
                stems_audio = {Path(n).stem for n, _ in entries if _kind(Path(n)) == "audio"}
                for name, _is_dir in sorted(entries):
                    kind = _kind(Path(name))
                    if kind is None or (kind == "transcript" and Path(name).stem in stems_audio):
                        continue
                    found.append((rootp / name, kind))
        else:
            found.append((p, _kind(p) or "audio"))
    seen: set[Path] = set()
    out = []
    for p, k in found:
        if p not in seen:
            seen.add(p)
            out.append((p, k))
    return out


def _checksum(path: Path) -> str:
    """SHA-256 of the file; AudioError with a readable reason when it cannot be read."""
    from .audio import audio_checksum

    if path.is_symlink() and not path.exists():
        raise AudioError(f"broken link (points to {os.readlink(path)})")
    if not path.exists():
        raise AudioError("file not found")
    if path.is_dir():
        raise AudioError("is a directory, not a file")
    if not path.is_file():
        raise AudioError("not a regular file")
    if path.stat().st_size == 0:
        raise AudioError("empty file (0 bytes)")
    try:
        return audio_checksum(path)
    except OSError as e:
        raise AudioError(f"cannot read: {e.strerror or e}") from None


# ---------------------------------------------------------------------------------- worker side
def _recordings_dir(settings: IngestSettings, checksum: str) -> Path:
    base = Path(settings.data_dir or config.data_dir()) / "recordings" / checksum[:2]
    base.mkdir(parents=True, exist_ok=True)
    return base


def _redact_evaluation(ev: Evaluation, lang: str | None) -> None:
    from .redact import redact_text

    for c in ev.criteria:
        for e in c.evidence:
            e.text = redact_text(e.text, lang)[0]


def process_item(item: WorkItem, settings: IngestSettings) -> dict[str, Any]:
    """Transcribe (or read) one input, score it, compute metrics, redact: a ``CallRecord``
    ready for the parent to store, as ``{"record": ...}``, or ``{"error": reason}``. Never
    raises for a bad input (runs in pool processes and Dask workers)."""
    try:
        return {"record": _process(item, settings)}
    except QAError as e:
        return {"error": e.message}
    except MemoryError:
        return {"error": "out of memory"}
    except Exception as e:  # a bug or an unexpected library error: still one line, recorded
        return {"error": f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}"}


def _process(item: WorkItem, settings: IngestSettings):
    from .store import CallRecord

    path = Path(item.path)
    meta = dict(item.metadata or {})
    if item.kind == "transcript":
        t = Transcript.load(path)
        for k, v in meta.items():  # the CSV fills what the platform's JSON does not say
            if k != "call_id":
                t.metadata.setdefault(k, v)
        engine = model = None
        if isinstance(t.extra.get("engine"), dict):
            engine, model = t.extra["engine"].get("name"), t.extra["engine"].get("model")
    else:
        from .transcribe import TranscribeOptions, transcribe_file

        t = transcribe_file(path, settings.transcribe or TranscribeOptions(), metadata=meta)
        info = t.extra.get("engine") or {}
        engine, model = info.get("name"), info.get("model")
    if not any(s.text.strip() for s in t.segments):
        raise AudioError("no speech found (silent or empty recording)" if item.kind == "audio"
                         else "transcript has no text")

    evaluation = None
    if settings.score:
        from .rubric import score_transcript

        evaluation = score_transcript(t, settings.rubric)
    metrics = None
    if settings.metrics:
        from .metrics import compute_metrics

        metrics = compute_metrics(t)

    stored_t, spans = t, None
    audio_path = str(path) if item.kind == "audio" else None
    redacted_audio = None
    if settings.redact:
        from .redact import redact_audio, redact_transcript

        stored_t, spans = redact_transcript(t)
        if evaluation is not None:
            _redact_evaluation(evaluation, t.language)
        if item.kind == "audio":
            dst = _recordings_dir(settings, item.checksum) / f"{item.checksum}.redacted.wav"
            if not dst.exists():
                tmp = dst.with_name(f"{dst.stem}.{os.getpid()}.part.wav")
                redact_audio(path, tmp, spans)
                os.replace(tmp, dst)
            redacted_audio = str(dst)
    if item.kind == "audio" and not settings.keep_originals:
        if redacted_audio:
            audio_path = redacted_audio  # the original is not referenced
        else:
            dst = _recordings_dir(settings, item.checksum) / f"{item.checksum}{path.suffix.lower()}"
            if not dst.exists():
                tmp = dst.with_name(f"{dst.name}.{os.getpid()}.part")
                shutil.copyfile(path, tmp)
                os.replace(tmp, dst)
            audio_path = str(dst)
    return CallRecord(checksum=item.checksum, transcript=stored_t, evaluation=evaluation, metrics=metrics,
                      audio_path=audio_path, redacted_audio_path=redacted_audio, source_path=str(path),
                      file_name=path.name, source_kind=item.kind, redacted=settings.redact,
                      redaction_spans=spans, engine=engine, model=model)


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


# ---------------------------------------------------------------------------------- executors
class _Serial:
    """In-process 'executor' (workers=1): same interface, no pickling, easier debugging."""

    def submit(self, fn: Callable, *args: Any) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed to the caller like a pool would
            f.set_exception(e)
        return f

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def _local_executor(workers: int):
    if workers <= 1:
        return _Serial()
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)


def _dask_executor(scheduler: str):
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
        n_workers = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))

        def submit(self, fn, *args):
            return executor.submit(fn, *args)

        def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
            try:
                executor.shutdown(wait=wait)
            finally:
                client.close()

    return _DaskExecutor()


def _run(items: list, fn: Callable, settings: Any, executor, window: int,
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


# ---------------------------------------------------------------------------------- parent
def _progress(total: int, enabled: bool | None):
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True, smoothing=0.1,
                disable=(not enabled) if enabled is not None else None, desc="ingest")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def ingest(inputs: Iterable[str | os.PathLike], store, settings: IngestSettings | None = None, *,
           metadata_csv: str | os.PathLike | None = None, workers: int | None = None,
           scheduler: str | None = None, progress: bool | None = None) -> IngestReport:
    """Transcribe, score and store every input (see the module docstring). ``workers``:
    local processes (default: one per core); ``scheduler``: a Dask scheduler address instead."""
    from .metadata import load_metadata

    started = time.monotonic()
    settings = replace(settings or IngestSettings(), data_dir=(settings.data_dir if settings and settings.data_dir
                                                               else str(config.data_dir())))
    if settings.transcribe is None:
        from .transcribe import TranscribeOptions

        settings.transcribe = TranscribeOptions()
    settings.transcribe = settings.transcribe.normalised()
    if settings.score and settings.rubric:
        from .rubric import load_rubric

        load_rubric(settings.rubric)  # a bad rubric: one error now, not one per file
    table = load_metadata(metadata_csv) if metadata_csv else None
    found = discover(inputs)
    if not found:
        raise QAError("no recordings or transcript JSON files found in " + ", ".join(map(str, inputs)))
    if scheduler:
        executor = _dask_executor(scheduler)
        window = 2 * executor.n_workers
        if settings.transcribe.engine == "faster-whisper":  # one core per Dask task slot (--nthreads = cores)
            settings.transcribe = replace(settings.transcribe, engine_options={
                "cpu_threads": 1, "workers": 1, **settings.transcribe.engine_options})
    else:
        n = max(1, min(workers or default_workers(), len(found)))
        if n > 1 and settings.transcribe.engine == "faster-whisper":
            threads = max(1, default_workers() // n)
            settings.transcribe = replace(settings.transcribe, engine_options={
                "cpu_threads": threads, "workers": 1, **settings.transcribe.engine_options})
        executor = _local_executor(n)
        window = 2 * n
        if n == 1 and any(k == "audio" for _, k in found):
            from .transcribe import get_engine  # a model problem: one error now, not one per file

            get_engine(settings.transcribe.engine, settings.transcribe.model, **settings.transcribe.engine_options)

    report = IngestReport(inputs=len(found))
    bar = _progress(len(found), progress)

    def fail(path: Path | str, reason: str, checksum: str | None = None) -> None:
        report.failed += 1
        report.failures.append((str(path), reason))
        store.record_failure(str(path), reason, checksum)
        bar.update(1)

    known = store.known_checksums()
    failed_before = {f.path for f in store.failures()}
    batch: dict[str, Path] = {}
    items: list[WorkItem] = []
    for path, kind in found:
        try:
            checksum = _checksum(path)
        except AudioError as e:
            fail(path, e.message)
            continue
        if checksum in known:
            report.skipped += 1
            if str(path) in failed_before:  # e.g. stored under another name since
                store.clear_failure(str(path))
            bar.update(1)
            continue
        if checksum in batch:
            report.skipped += 1
            bar.update(1)
            continue
        batch[checksum] = path
        row = table.lookup(path) if table is not None else None
        items.append(WorkItem(str(path), kind, checksum, row))

    def on_result(item: WorkItem, result: dict | None, error: BaseException | None) -> None:
        name = Path(item.path).name
        bar.set_postfix_str(name[-30:], refresh=False)
        if error is not None:
            reason = error.message if isinstance(error, QAError) else \
                f"worker failed: {type(error).__name__}: {' '.join(str(error).split())[:200]}"
            fail(item.path, reason, item.checksum)
            return
        if "error" in result:
            fail(item.path, result["error"], item.checksum)
            return
        rec = result["record"]
        try:
            pk = store.add_call(rec)
        except QAError as e:
            fail(item.path, e.message, item.checksum)
            return
        if pk is None:
            report.skipped += 1
        else:
            report.stored += 1
            report.audio_seconds += rec.transcript.duration or rec.transcript.end_time or 0.0
        bar.update(1)

    try:
        _run(items, process_item, settings, executor, window, on_result)
    except KeyboardInterrupt:
        report.interrupted = True
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        executor.shutdown(wait=True)
    finally:
        bar.close()
        report.wall_seconds = time.monotonic() - started
    store.audit("ingest_run", details={"inputs": report.inputs, "stored": report.stored, "skipped": report.skipped,
                                       "failed": report.failed})
    return report


# ---------------------------------------------------------------------------------- rescore
@dataclass
class RescoreReport:
    considered: int = 0
    rescored: int = 0
    unchanged: int = 0  # already evaluated with the current rubric version
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.failed == 0:
            return EXIT_OK
        return EXIT_FAILED if self.rescored + self.unchanged == 0 else EXIT_PARTIAL


def _score_one(t: Transcript, rubric: str | None) -> dict[str, Any]:
    from .rubric import score_transcript

    try:
        return {"evaluation": score_transcript(t, rubric)}
    except QAError as e:
        return {"error": e.message}
    except Exception as e:  # noqa: BLE001
        return {"error": f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}"}


RESCORE_BATCH = 128  # calls scored together by qa rescore (as qa score: the batch API)


def _score_chunk(ts: list[Transcript], rubric: str | None) -> list[dict[str, Any]]:
    """``_score_one`` of each call, through the batch API (``score_transcripts``: tokenised together,
    each model condition asked once for the calls that reach it; the same evaluations). Should a call
    of the chunk fail, the chunk is scored call by call, each failure reported for its own call."""
    from .rubric import score_transcripts

    try:
        return [{"evaluation": ev} for ev in score_transcripts(ts, rubric, batch_size=len(ts))]
    except Exception:  # noqa: BLE001 - sorted out call by call
        return [_score_one(t, rubric) for t in ts]


def rescore(store, rubric: str | None = None, since: datetime | None = None, force: bool = False,
            progress: bool | None = None, username: str | None = None, workers: int | None = 1) -> RescoreReport:
    """Re-evaluate stored transcripts with the current version of their rubric (or of
    ``rubric`` for every call) without transcribing again. Calls whose current evaluation
    already has that rubric and version are left alone unless ``force``. Earlier evaluations
    stay as history (``is_current`` moves). Note: human overrides belong to the evaluation
    they were made on and are not carried over. ``workers`` > 1: scoring in a process pool
    (the parent reads transcripts and writes evaluations)."""
    from sqlalchemy import select

    from .rubric import load_rubric
    from .store.schema import Call, EvaluationRow

    if rubric:
        load_rubric(rubric)
    report = RescoreReport()
    with store.session() as s:
        q = select(Call.call_id, EvaluationRow.rubric, EvaluationRow.rubric_version).outerjoin(
            EvaluationRow, (EvaluationRow.call_pk == Call.id) & EvaluationRow.is_current)
        if since is not None:
            from .store.schema import utc

            q = q.where(Call.started_at >= utc(since))
        current = {cid: (r, v) for cid, r, v in s.execute(q)}
    versions: dict[str, str] = {}

    def version_of(name: str) -> str | None:
        if name not in versions:
            try:
                versions[name] = load_rubric(name).version
            except QAError:
                versions[name] = None
        return versions[name]

    bar = _progress(len(current), progress)

    def candidates():
        for t in store.iter_transcripts(since=since):
            if t.call_id not in current:
                continue
            report.considered += 1
            old_rubric, old_version = current[t.call_id]
            name = rubric or old_rubric
            if not force and name and old_version is not None and version_of(name) == old_version \
                    and (rubric is None or rubric == old_rubric):
                report.unchanged += 1
                bar.update(1)
                continue
            yield t  # stored transcripts may be redacted: the rubric then sees the masked text

    def on_result(t: Transcript, out: dict | None, error: BaseException | None) -> None:
        if error is not None or "error" in out:
            report.failed += 1
            report.failures.append((t.call_id, out["error"] if error is None else f"{type(error).__name__}: {error}"))
        else:
            ev = out["evaluation"]
            if not force and (ev.rubric, ev.rubric_version) == current[t.call_id]:
                report.unchanged += 1
            else:
                store.add_evaluation(t.call_id, ev, username=username)
                report.rescored += 1
        bar.update(1)

    def on_chunk(ts: list[Transcript], outs: list[dict] | None, error: BaseException | None) -> None:
        for i, t in enumerate(ts):
            on_result(t, None if error is not None else outs[i], error)

    n = max(1, workers or 1)
    executor = _local_executor(n)
    try:
        from .rubric.engine import batches

        _run(batches(candidates(), RESCORE_BATCH), _score_chunk, rubric, executor, 2 * n, on_chunk)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return report
