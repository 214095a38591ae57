"""Batch ingest: recordings (or Transcript JSON files from a recording platform) ->
transcript, evaluation, metrics -> the store. Also ``rescore``: re-evaluate stored transcripts.

    report = ingest(["calls/"], store, IngestSettings(...), workers=2)

This module finds the inputs, skips what is stored, runs the calls in parallel (``qa.parallel``)
and writes each record in the parent; what happens to one call is ``qa.pipeline.process_call``
(and for ``rescore``, ``qa.pipeline.score_each``).

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
  masked (``qa.redact``); for audio a 16 kHz copy with those spans silenced is written to
  ``$QA_DATA_DIR/recordings/``, streamed block by block (memory does not grow with the length
  of the recording). Which text scoring sees is the order of ``qa.pipeline.CALL_STEPS``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from . import config
from .errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, AudioError, QAError
from .model import Transcript
from .parallel import batches, dask_executor, default_workers, local_executor, progress_bar, run_all
from .pipeline import CallInput, ProcessSettings, Scored, failure_reason, process_call, score_each

from .constants import AUDIO_EXTENSIONS, TRANSCRIPT_EXTENSIONS  # noqa: E402
FALSE_WORDS = {"0", "false", "no", "off", "n"}


def keep_originals_setting() -> bool:
    """``QA_KEEP_ORIGINALS`` (default on): refer to recordings where they are instead of copying."""
    return os.environ.get("QA_KEEP_ORIGINALS", "1").strip().lower() not in FALSE_WORDS


# What every worker needs (picklable) and one input: the pipeline's types under ingest's names.
IngestSettings = ProcessSettings
WorkItem = CallInput


@dataclass
class IngestReport:
    """What an ``ingest`` run did: counts, seconds of calls stored, and each failure with its reason."""

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
        """EXIT_OK all stored (or already there), EXIT_PARTIAL some failed, EXIT_FAILED none stored."""
        if self.failed == 0 and not self.interrupted:
            return EXIT_OK
        if self.stored + self.skipped == 0:
            return EXIT_FAILED
        return EXIT_PARTIAL

    def summary(self) -> str:
        """One line: stored, skipped, failed, minutes of calls and speed."""
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
def process_item(item: WorkItem, settings: IngestSettings) -> dict[str, Any]:
    """One input through the pipeline (``qa.pipeline.process_call``): a ``CallRecord`` ready for the
    parent to store, as ``{"record": ...}``, or ``{"error": reason}``. Never raises for a bad input
    (runs in pool processes and Dask workers)."""
    try:
        return {"record": process_call(item, settings)}
    except Exception as e:  # a bad input (QAError), or a bug / unexpected library error: still one line
        return {"error": failure_reason(e)}


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
        executor = dask_executor(scheduler)
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
        executor = local_executor(n)
        window = 2 * n
        if n == 1 and any(k == "audio" for _, k in found):
            from .transcribe import get_engine  # a model problem: one error now, not one per file

            get_engine(settings.transcribe.engine, settings.transcribe.model, **settings.transcribe.engine_options)

    report = IngestReport(inputs=len(found))
    bar = progress_bar(len(found), progress)

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
        run_all(items, process_item, settings, executor, window, on_result)
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
    """What a ``rescore`` run did: calls considered, re-evaluated, already current, failed (with reasons)."""

    considered: int = 0
    rescored: int = 0
    unchanged: int = 0  # already evaluated with the current rubric version
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """EXIT_OK nothing failed, EXIT_PARTIAL some failed, EXIT_FAILED every call failed."""
        if self.failed == 0:
            return EXIT_OK
        return EXIT_FAILED if self.rescored + self.unchanged == 0 else EXIT_PARTIAL


RESCORE_BATCH = 128  # calls scored together by qa rescore (as qa score: the batch API)


def rescore(store, rubric: str | None = None, since: datetime | None = None, force: bool = False,
            progress: bool | None = None, username: str | None = None, workers: int | None = 1) -> RescoreReport:
    """Re-evaluate stored transcripts with the current version of their rubric (or of
    ``rubric`` for every call) without transcribing again. Calls whose current evaluation
    already has that rubric and version are left alone unless ``force``. Earlier evaluations
    stay as history (``is_current`` moves); human overrides and accepted disputes carry over to the
    new evaluation for every criterion it still has (``Store.add_evaluation``). ``workers`` > 1: scoring in a process pool
    (the parent reads transcripts and writes evaluations)."""
    from .rubric import load_rubric
    from .store.rescoring import current_rubric_versions

    if rubric:
        load_rubric(rubric)
    report = RescoreReport()
    current = current_rubric_versions(store, since=since)
    versions: dict[str, str] = {}

    def version_of(name: str) -> str | None:
        if name not in versions:
            try:
                versions[name] = load_rubric(name).version
            except QAError:
                versions[name] = None
        return versions[name]

    bar = progress_bar(len(current), progress, "rescore")

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

    def on_result(t: Transcript, out: Scored | None, error: BaseException | None) -> None:
        if error is not None or out.evaluation is None:
            report.failed += 1
            report.failures.append((t.call_id, out.error if error is None else f"{type(error).__name__}: {error}"))
        else:
            ev = out.evaluation
            if not force and (ev.rubric, ev.rubric_version) == current[t.call_id]:
                report.unchanged += 1
            else:
                store.add_evaluation(t.call_id, ev, username=username)
                report.rescored += 1
        bar.update(1)

    def on_chunk(ts: list[Transcript], outs: list[Scored] | None, error: BaseException | None) -> None:
        for i, t in enumerate(ts):
            on_result(t, None if error is not None else outs[i], error)

    n = max(1, workers or 1)
    executor = local_executor(n)
    try:  # each chunk scored in one batch, call by call should one of its calls fail
        run_all(batches(candidates(), RESCORE_BATCH), score_each, rubric, executor, 2 * n, on_chunk)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return report
