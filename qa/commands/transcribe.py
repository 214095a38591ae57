"""`qa transcribe AUDIO... [-o DIR] [--engine ...] [--model ...] [--language ...]
[--agent-channel ...] [--metadata calls.csv]`: one Transcript JSON per recording."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..constants import LANGS
from ..errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, QAError
from ..transcribe import AGENT_CHANNELS, ENGINES


def register(subparsers) -> None:
    """Add ``qa transcribe``."""
    p = subparsers.add_parser(
        "transcribe",
        help="transcribe recordings into Transcript JSON files",
        description="Transcribe call recordings (WAV, MP3, OGG/Opus, FLAC, M4A) into one Transcript JSON "
                    "each, written to DIR/<call_id>.json. Stereo: one party per channel. Exit code: 0 all written, "
                    "1 some failed, 3 none written.",
    )
    p.add_argument("audio", nargs="+", metavar="AUDIO", help="recording(s) to transcribe")
    p.add_argument("-o", "--output", metavar="DIR", default=".", help="where to write the JSON files (default: .)")
    p.add_argument("--output-dir", dest="output", help=argparse.SUPPRESS)  # the old spelling of --output
    p.add_argument("--engine", choices=list(ENGINES), default="faster-whisper")
    p.add_argument("--model", default="base", metavar="base|small|PATH",
                   help="bundled model name, official faster-whisper name, or a CTranslate2 model folder")
    p.add_argument("--language", default="auto", choices=["auto", *LANGS])
    p.add_argument("--agent-channel", default="left", choices=list(AGENT_CHANNELS),
                   help="channel of the agent in stereo recordings; mono mixes channels down")
    p.add_argument("--metadata", metavar="CSV", help="calls.csv with file,call_id,agent_id,agent_name,team,"
                   "customer_name,call_type,direction,started_at")
    p.set_defaults(func=run)


def _fail(path: str, message: str) -> None:
    print(f"qa: error: {path}: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Transcribe each recording (``qa.pipeline.transcribe_recording``: decode, transcribe, roles) into
    DIR/<call_id>.json; each failure on one line, the other files still written."""
    from tqdm import tqdm

    from ..metadata import load_metadata
    from ..pipeline import roles_failure, transcribe_recording
    from ..transcribe import TranscribeOptions, get_engine

    table = load_metadata(args.metadata) if args.metadata else None  # bad CSV: QAError, exit 3
    options = TranscribeOptions(engine=args.engine, model=args.model, language=args.language,
                                agent_channel=args.agent_channel).normalised()
    out_dir = Path(args.output)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise QAError(f"cannot create output folder: {e.strerror or e}", str(out_dir)) from None
    get_engine(options.engine, options.model, **options.engine_options)  # model problems: one error, not one per file

    ok = failed = 0
    written: dict[str, str] = {}
    files = list(args.audio)
    bar = tqdm(total=len(files), unit="file", file=sys.stderr, disable=None if len(files) > 1 else True,
               dynamic_ncols=True)
    for path in files:
        bar.set_postfix_str(Path(path).name, refresh=False)
        inner = None
        try:
            row = table.lookup(path) if table is not None else None
            cid = (row or {}).get("call_id") or Path(path).stem
            if cid in written:
                raise QAError(f"call_id {cid!r} is also the call_id of {written[cid]} in this run")

            if cid in (".", "..") or "/" in cid or "\\" in cid:
                raise QAError(f"call_id {cid!r} cannot be used as a file name")

            def progress(seconds: float):
                nonlocal inner
                if inner is None:
                    inner = tqdm(unit="s", file=sys.stderr, leave=False, desc=Path(path).name,
                                 bar_format="{desc}: {n:.0f}s of audio {elapsed}", disable=None)
                inner.update(max(0.0, seconds - inner.n))

            transcript = transcribe_recording(path, options, metadata=row, call_id=cid, progress=progress)
            reason = roles_failure(transcript)
            if reason is not None:
                print(f"qa: warning: {' '.join(f'{path}: speakers left unknown: {reason}'.split())}",
                      file=sys.stderr, flush=True)
            target = out_dir / f"{transcript.call_id}.json"
            transcript.save(target)
            written[transcript.call_id] = path
            ok += 1
        except QAError as e:
            _fail(path, e.message)
            failed += 1
        except MemoryError:
            _fail(path, "not enough memory to decode this recording")
            failed += 1
        except Exception as e:  # keep going with the other files; still one line
            if os.environ.get("QA_DEBUG"):
                raise
            _fail(path, f"internal error: {type(e).__name__}: {' '.join(str(e).split())}")
            failed += 1
        finally:
            if inner is not None:
                inner.close()
            bar.update(1)
    bar.close()
    if failed == 0:
        return EXIT_OK
    return EXIT_PARTIAL if ok else EXIT_FAILED
