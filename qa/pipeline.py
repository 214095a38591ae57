"""The processing of a call, assembled in one place, as explicit typed stages::

    decode -> transcribe -> roles -> metrics -> redact -> prepare (language, call type, rubric) -> score -> CallRecord

A recording goes through every stage; a Transcript JSON (from a recording platform) starts at
``read_transcript`` and joins at ``prepare``. Each stage is a small function that can be called on its
own (``decode``, ``transcribe``, ``assign_roles``, ``prepare``, ``score``, ``compute_metrics``, ``redact``):

- ``process_call``: one input file -> ``CallRecord`` for the store (``qa ingest``, dashboard uploads);
- ``score_each``: many transcripts scored in one batch, and should one call of the batch fail,
  call by call, each failure reported for its own call (``qa score``, ``qa rescore``, the
  dashboard's re-scoring); ``score_transcripts`` / ``score_transcript`` when a failure may stop;
- ``transcribe_recording``: decode -> transcribe -> roles (``qa transcribe``).

Every evaluation is made on the redacted text (``CALL_STEPS``: metrics, redaction, scoring): the stored
transcript is the redacted one and ``qa rescore`` scores what is stored, so ingest and rescoring agree.
The rules understand the masks (docs/SECURITY.md, "Scoring on redacted text"). Metrics (talk time,
silences, sentiment) are numbers about the call, computed on the original transcript.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import config
from .audio import MAX_DURATION_S, DecodedAudio, load_audio
from .config import CALL_TYPES, LANGUAGES
from .errors import AudioError, ModelError, QAError
from .model import Evaluation, Transcript
from .parallel import batches
from .analysis.roles import assign_roles as _roles_of
from .learning.active import add_second_opinions
from .rubric.engine import CallFacts, PreparedCall, score_prepared, scoring_session
from .rubric.infer import infer_call_types, infer_language
from .rubric.loader import load_rubric
from .rubric.schema import Rubric
from .transcribe.core import TranscribeOptions, transcribe_audio

FALLBACK_LANG = "it"  # the language of a call without a single word


# ---------------------------------------------------------------------------------- types
@dataclass
class CallInput:
    """One input file: a recording (``kind`` "audio") or a Transcript JSON ("transcript")."""

    path: str  # absolute (symlinks not resolved: a failure is reported under the given name)
    kind: str  # audio | transcript
    checksum: str  # SHA-256 of the file: the store's idempotency key
    metadata: dict[str, Any] | None = None  # a qa.metadata row (calls.csv)


@dataclass
class ProcessSettings:
    """How to process a call (picklable: it travels to pool processes and Dask workers)."""

    transcribe: Any = None  # TranscribeOptions (None: defaults)
    rubric: str | None = None  # None: the rubric of the call's call_type (inferred when absent)
    redact: bool = True
    keep_originals: bool = True  # refer to the recording where it is; False: keep a copy under data_dir
    data_dir: str = ""  # "" : qa.config.data_dir()
    metrics: bool = True
    score: bool = True


@dataclass
class RolesResult:
    """The roles stage's outcome: the transcript (a new one when roles were assigned), whether
    ``unknown`` speakers were given roles, and why not when ``qa.analysis.roles`` could not (``error``)."""

    transcript: Transcript
    inferred: bool = False
    error: str | None = None


@dataclass
class Scored:
    """One call's scoring outcome: its evaluation, or the reason it has none.

    ``error``: one line (a ``QAError``'s message, or "internal error: ..." for a bug);
    ``detail``: the error as the CLI prints it (with the file or rubric line it is about);
    ``source``: what the error names, when it names something."""

    call_id: str
    evaluation: Evaluation | None = None
    error: str | None = None
    detail: str | None = None
    source: str | None = None

    @classmethod
    def failed(cls, call_id: str, e: BaseException) -> "Scored":
        """The outcome of a call whose scoring raised ``e``."""
        reason = failure_reason(e)
        if isinstance(e, QAError):
            return cls(call_id, None, reason, str(e), e.source)
        return cls(call_id, None, reason, reason, None)


@dataclass
class Redacted:
    """The redaction stage's outcome: the transcript to store (personal data masked), the masked
    spans (times for the audio), and a copy of the evaluation with its evidence masked."""

    transcript: Transcript
    spans: list[dict[str, Any]]
    evaluation: Evaluation | None = None


@dataclass
class CallState:
    """A call between the steps of ``process_call``: what the stages have made of it so far.
    ``transcript`` is what the next step sees (after ``redact_step``: the masked one)."""

    source: CallInput
    transcript: Transcript
    engine: str | None = None
    model: str | None = None
    evaluation: Evaluation | None = None
    metrics: dict[str, Any] | None = None
    redacted: bool = False
    redaction_spans: list[dict[str, Any]] | None = None
    redacted_audio: str | None = None


def failure_reason(e: BaseException) -> str:
    """One line saying why a call failed: a ``QAError``'s message, else the exception's type and text."""
    if isinstance(e, QAError):
        return e.message
    if isinstance(e, MemoryError):
        return "out of memory"
    return f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}"


# ---------------------------------------------------------------------------------- stages
def decode(path: str | os.PathLike, max_duration_s: float | None = MAX_DURATION_S) -> DecodedAudio:
    """Decode stage: the recording as 16 kHz float32 channels (``qa.audio.load_audio``); AudioError
    with one line for a file that cannot be used."""
    return load_audio(path, max_duration_s=max_duration_s)


def transcribe(audio: DecodedAudio, options: TranscribeOptions | None = None, source: str | os.PathLike = "",
               metadata: dict[str, Any] | None = None, call_id: str | None = None,
               progress: Callable[[float], None] | None = None) -> Transcript:
    """Transcribe stage (``qa.transcribe.transcribe_audio``): stereo channels are agent and customer,
    a mono call's speakers stay ``unknown`` for the roles stage."""
    return transcribe_audio(audio, options, source, metadata=metadata, call_id=call_id, progress=progress)


def assign_roles(transcript: Transcript, audio: DecodedAudio | None = None) -> RolesResult:
    """Roles stage: ``unknown`` speakers (a mono call) labelled agent/customer by ``qa.analysis.roles`` (text
    and turn-taking, and the two voices when ``audio`` is given); a transcript without ``unknown``
    speakers is returned as it is. Where no role model can be loaded (``ModelError``, the one
    failure caught here) the speakers stay ``unknown`` (the rules then accept them for either role)
    and the reason is recorded: in ``RolesResult.error`` and in the transcript's ``extra.roles``
    (a copy; the input is not changed). Any other error is a bug and is raised."""
    if not any(s.speaker == "unknown" for s in transcript.segments):
        return RolesResult(transcript)
    try:
        if audio is None:
            return RolesResult(_roles_of(transcript), inferred=True)
        # the audio lets qa.analysis.roles cluster the two voices too (much stronger than text alone)
        return RolesResult(_roles_of(transcript, audio=audio.mono(), sample_rate=audio.sample_rate), inferred=True)
    except ModelError as e:
        failed = replace(transcript, extra={**transcript.extra, "roles": {"assigned": False, "reason": str(e)}})
        return RolesResult(failed, inferred=False, error=str(e))


def roles_failure(transcript: Transcript) -> str | None:
    """Why the roles stage left this transcript's speakers ``unknown`` (None: it did not fail)."""
    roles = transcript.extra.get("roles")
    return roles.get("reason") if isinstance(roles, dict) and roles.get("assigned") is False else None


def read_transcript(path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Transcript:
    """Instead of decode and transcribe: a Transcript JSON (FORMATS.md); ``metadata`` (a calls.csv
    row) fills what the JSON does not say."""
    t = Transcript.load(path)
    for k, v in (metadata or {}).items():
        if k != "call_id":
            t.metadata.setdefault(k, v)
    return t


def require_speech(transcript: Transcript, kind: str) -> None:
    """AudioError when there is nothing to evaluate (no segment with text)."""
    if not any(s.text.strip() for s in transcript.segments):
        raise AudioError("no speech found (silent or empty recording)" if kind == "audio"
                         else "transcript has no text")


def _declared_call_type(t: Transcript) -> str | None:
    ct = t.metadata.get("call_type")
    return ct.strip().lower() if isinstance(ct, str) else None


def prepare(transcripts: list[Transcript], rubric: str | Rubric | None = None) -> list[PreparedCall]:
    """Prepare stage: for each call, the roles of ``unknown`` speakers (text only), its language
    (from its words when the transcript does not say it), its call type (the ``tipo_chiamata``
    classifier, once for all calls that need it, when metadata.call_type does not say it) and its
    rubric (``rubric``, else the call type's). Raises RubricError when a rubric cannot be loaded."""
    rubrics: dict = {}  # each rubric looked up (file stamps checked) once per batch, not once per call
    with_roles = [assign_roles(t) for t in transcripts]
    unknown = [r.transcript for r in with_roles if _declared_call_type(r.transcript) not in CALL_TYPES]
    call_types = {id(t): ct for t, ct in zip(unknown, infer_call_types(unknown))} if unknown else {}
    return [_prepare_one(r, rubric, rubrics, call_types) for r in with_roles]


def _prepare_one(roles: RolesResult, rubric, rubrics: dict, call_types: dict) -> PreparedCall:
    t = roles.transcript
    lang = t.language if t.language in LANGUAGES else None
    lang_inferred = lang is None
    if lang is None:
        lang = infer_language(t) if t.segments else FALLBACK_LANG
    ct = _declared_call_type(t)
    ct_conf = None
    ct_inferred = ct not in CALL_TYPES
    if ct_inferred:
        ct, ct_conf = call_types[id(t)]
    key = rubric if rubric is not None else ct
    rub = rubrics.get(key) if isinstance(key, str) else None
    if rub is None:
        rub = load_rubric(key)
        if isinstance(key, str):
            rubrics[key] = rub
    facts = CallFacts(language=lang, language_inferred=lang_inferred, call_type=ct, call_type_inferred=ct_inferred,
                      roles_inferred=roles.inferred, call_type_confidence=ct_conf, roles_error=roles.error)
    return PreparedCall(t, rub, facts)


def score(prepared: list[PreparedCall]) -> list[Evaluation]:
    """Score stage: the rubric engine's evaluations of prepared calls (``qa.rubric.engine.score_prepared``),
    each with the call models' second opinion where they doubt a result (``qa.learning.active``)."""
    return add_second_opinions([(c.transcript, ev) for c, ev in zip(prepared, score_prepared(prepared))])


def compute_metrics(transcript: Transcript) -> dict[str, Any]:
    """Metrics stage: talk/silence/overtalk/speech rate/greeting/monologue/sentiment (``qa.analysis.metrics``)."""
    from .analysis.metrics import compute_metrics as metrics_of

    return metrics_of(transcript)


def redact(transcript: Transcript, evaluation: Evaluation | None = None) -> Redacted:
    """Redaction stage: the transcript with personal data masked (``qa.redact``), the masked spans,
    and a copy of ``evaluation`` whose evidence texts are masked too."""
    from .redact import redact_evidence, redact_transcript

    masked, spans = redact_transcript(transcript)
    if evaluation is not None:  # quotes masked with the context the transcript pass uses
        evaluation = redact_evidence(evaluation, transcript)
    return Redacted(masked, spans, evaluation)


# ---------------------------------------------------------------------------------- scoring
def score_batch(transcripts: list[Transcript], rubric: str | Rubric | None = None) -> list[Evaluation]:
    """prepare -> score for a batch of calls, in order; raises if any call of the batch fails."""
    with scoring_session():
        return score(prepare(transcripts, rubric))


def score_each(transcripts: list[Transcript], rubric: str | Rubric | None = None) -> list[Scored]:
    """Every call's ``Scored``, never raising for a call: the calls are scored together in one batch
    (the same evaluations as one by one), and should one of them fail, call by call, so that each
    error is reported for its own call and the other calls are still scored."""
    try:
        return [Scored(t.call_id, ev) for t, ev in zip(transcripts, score_batch(transcripts, rubric))]
    except Exception as e:  # noqa: BLE001 - sorted out call by call
        if len(transcripts) == 1:
            return [Scored.failed(transcripts[0].call_id, e)]
    out = []
    for t in transcripts:
        try:
            out.append(Scored(t.call_id, score_batch([t], rubric)[0]))
        except Exception as e:  # noqa: BLE001 - reported for this call
            out.append(Scored.failed(t.call_id, e))
    return out


def score_transcripts(transcripts: Iterable[Transcript], rubric: str | Rubric | None = None,
                      batch_size: int = 256) -> Iterator[Evaluation]:
    """Evaluate many calls, in batches of ``batch_size`` (tokenised with spaCy ``pipe`` per language,
    each model condition asked once per batch). Order is kept; the results are those of
    ``score_transcript``; the first call that cannot be scored raises."""
    for batch in batches(transcripts, batch_size):
        yield from score_batch(batch, rubric)


def score_transcript(transcript: Transcript, rubric: str | Rubric | None = None) -> Evaluation:
    """Evaluate one call. ``rubric`` None: the rubric of metadata.call_type (inferred when absent)."""
    return score_batch([transcript], rubric)[0]


# ---------------------------------------------------------------------------------- one call
def transcribe_recording(path: str | os.PathLike, options: TranscribeOptions | None = None,
                         metadata: dict[str, Any] | None = None, call_id: str | None = None,
                         progress: Callable[[float], None] | None = None) -> Transcript:
    """decode -> transcribe -> roles: one recording's Transcript (FORMATS.md)."""
    options = (options or TranscribeOptions()).normalised()
    audio = decode(path, options.max_duration_s)
    transcript = transcribe(audio, options, path, metadata=metadata, call_id=call_id, progress=progress)
    return assign_roles(transcript, audio).transcript


def read_step(item: CallInput, settings: ProcessSettings) -> CallState:
    """The input's transcript: read (Transcript JSON) or decode -> transcribe -> roles (recording)."""
    path = Path(item.path)
    if item.kind == "transcript":
        t = read_transcript(path, item.metadata)
    else:
        t = transcribe_recording(path, settings.transcribe or TranscribeOptions(), metadata=dict(item.metadata or {}))
    engine = t.extra.get("engine")
    engine = engine if isinstance(engine, dict) else {}
    require_speech(t, item.kind)
    return CallState(item, t, engine.get("name"), engine.get("model"))


def score_step(call: CallState, settings: ProcessSettings) -> CallState:
    """prepare -> score, unless ``settings.score`` is off; a call that cannot be scored raises.
    In ``CALL_STEPS`` it comes after ``redact_step``: the call is scored on the text that is stored."""
    if not settings.score:
        return call
    return replace(call, evaluation=score_batch([call.transcript], settings.rubric)[0])


def metrics_step(call: CallState, settings: ProcessSettings) -> CallState:
    """The call's metrics, unless ``settings.metrics`` is off."""
    return replace(call, metrics=compute_metrics(call.transcript)) if settings.metrics else call


def redact_step(call: CallState, settings: ProcessSettings) -> CallState:
    """Unless ``settings.redact`` is off: the transcript masked (and the evidence of an evaluation
    already made, when the step is used after scoring), and for a recording a copy with the masked
    spans silenced under ``$QA_DATA_DIR/recordings/``."""
    if not settings.redact:
        return call
    r = redact(call.transcript, call.evaluation)
    redacted_audio = None
    if call.source.kind == "audio":
        from .redact import redact_audio

        dst = _recordings_dir(settings, call.source.checksum) / f"{call.source.checksum}.redacted.wav"
        if not dst.exists():
            tmp = dst.with_name(f"{dst.stem}.{os.getpid()}.part.wav")
            redact_audio(call.source.path, tmp, r.spans)
            os.replace(tmp, dst)
        redacted_audio = str(dst)
    return replace(call, transcript=r.transcript, evaluation=r.evaluation, redacted=True, redaction_spans=r.spans,
                   redacted_audio=redacted_audio)


# The steps after the transcript, in order (see the module docstring).
CALL_STEPS: tuple[Callable[[CallState, ProcessSettings], CallState], ...] = (metrics_step, redact_step, score_step)


def process_call(item: CallInput, settings: ProcessSettings):
    """One input file through every stage: a ``qa.store.CallRecord`` ready to be stored. Raises
    (QAError with one line for a bad input) when the call cannot be processed."""
    call = read_step(item, settings)
    for step in CALL_STEPS:
        call = step(call, settings)
    return to_record(call, settings)


def _recordings_dir(settings: ProcessSettings, checksum: str) -> Path:
    base = Path(settings.data_dir or config.data_dir()) / "recordings" / checksum[:2]
    base.mkdir(parents=True, exist_ok=True)
    return base


def to_record(call: CallState, settings: ProcessSettings):
    """The ``CallRecord`` of a processed call. Recordings: referred to where they are
    (``keep_originals``), else the store's copy (only the redacted one when redaction is on)."""
    from .store import CallRecord

    item, path = call.source, Path(call.source.path)
    audio_path = str(path) if item.kind == "audio" else None
    if item.kind == "audio" and not settings.keep_originals:
        if call.redacted_audio:
            audio_path = call.redacted_audio  # the original is not referenced
        else:
            dst = _recordings_dir(settings, item.checksum) / f"{item.checksum}{path.suffix.lower()}"
            if not dst.exists():
                tmp = dst.with_name(f"{dst.name}.{os.getpid()}.part")
                shutil.copyfile(path, tmp)
                os.replace(tmp, dst)
            audio_path = str(dst)
    return CallRecord(checksum=item.checksum, transcript=call.transcript, evaluation=call.evaluation,
                      metrics=call.metrics, audio_path=audio_path, redacted_audio_path=call.redacted_audio,
                      source_path=str(path), file_name=path.name, source_kind=item.kind, redacted=call.redacted,
                      redaction_spans=call.redaction_spans, engine=call.engine, model=call.model)


__all__ = ["CallInput", "ProcessSettings", "RolesResult", "CallFacts", "PreparedCall", "Scored", "Redacted",
           "CallState", "CALL_STEPS", "decode", "transcribe", "assign_roles", "read_transcript", "prepare", "score",
           "compute_metrics", "redact", "score_batch", "score_each", "score_transcripts", "score_transcript",
           "transcribe_recording", "process_call", "failure_reason", "roles_failure"]
