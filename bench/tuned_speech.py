"""Render tuned-on scripted calls as speech (Kokoro) and transcribe them (Whisper); cache the transcripts.

    python bench/tuned_speech.py render [--limit N] [--calls ID ...] [--batches batch9 batch8]
    python bench/tuned_speech.py compare [--calls ID ...] [--verbose]

``render`` does to calls of tests/data/rules_fresh/batch9 and batch8 (or the ``--batches`` given) exactly what
``bench/heldout_speech.py`` does to the held-out calls (Kokoro-82M, agent left / customer right,
8 kHz telephone band, then faster-whisper base with the language auto-detected), and caches the
Whisper transcript as ``bench/results/tuned_speech/<call_id>.json`` (committed: small).

Real-call style calls carry ``<PER>``/``<NUM>`` masks, which TTS cannot speak: the masks are
replaced by a plausible name / number (``unmask``: a fixed agent first name for the agent's own
presentation, a fixed customer name otherwise, a digit string for numbers); the unmasked source text
is saved beside the transcript as ``<call_id>.src.json`` so that text and speech are compared on
the same words.

``compare`` scores every cached call twice with the current engine, on the (unmasked) source
text and on the Whisper transcript, and prints per criterion how often the two agree and how often
each agrees with the batch's labels.csv; ``--verbose`` lists every text/speech difference.

These are tuned-on calls (the batches were scored and tuned on before): printing per-call detail
is allowed here, unlike for the held-out set.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FRESH = ROOT / "tests" / "data" / "rules_fresh"
CACHE = ROOT / "bench" / "results" / "tuned_speech"
AUDIO = ROOT / "bench" / "out" / "tuned_speech_audio"

# plausible stand-ins for the masks of real-call style calls (per language)
AGENT_NAME = {"it": "Chiara", "de": "Katrin", "fr": "Claire", "en": "Emma"}
CUSTOMER_NAME = {"it": ("Marco", "Bianchi"), "de": ("Thomas", "Keller"), "fr": ("Julien", "Moreau"),
                 "en": ("David", "Parker")}
NUMBER = "4471 2290"
_SELF = re.compile(r"\b(?:sono|mi chiamo|ich bin|mein name ist|hier ist|je suis|je m'appelle|moi c'est|"
                   r"my name is|i'm|it's|this is)\s*(?:eh\s+|ähm\s+|euh\s+|uh\s+)?$", re.I)
_TITLE = re.compile(r"\b(?:signor|signora|sig\.|herr|frau|monsieur|madame|mr\.?|mrs\.?|ms\.?|miss)\s*$", re.I)


def unmask(t):
    """A copy of transcript ``t`` with ``<PER>`` and ``<NUM>`` replaced by plausible words."""
    lang = t.language or "it"
    first, last = CUSTOMER_NAME[lang]
    data = t.to_dict()
    for seg in data["segments"]:
        text = re.sub(r"<PER>\s+<PER>", f"{first} {last}", seg["text"])
        parts = re.split(r"(<PER>|<NUM>)", text)
        buf = ""
        for p in parts:
            if p == "<NUM>":
                buf += NUMBER
            elif p == "<PER>":
                if seg["speaker"] == "agent" and _SELF.search(buf) and not _TITLE.search(buf):
                    buf += AGENT_NAME[lang]
                elif re.search(r"\b(?:from|da|von|de chez|chez)\s*$", buf, re.I):
                    buf += "Nova"
                elif _TITLE.search(buf):
                    buf += last
                else:
                    buf += f"{first} {last}"
            else:
                buf += p
        seg["text"] = buf
    return type(t).from_dict(data)


def masked(t) -> bool:
    return any("<PER>" in s.text or "<NUM>" in s.text for s in t.segments)


def balanced_order(transcripts):
    """Unmasked calls first, each group interleaved over language (batch9 before batch8)."""
    groups: dict[tuple, list] = {}
    for t in sorted(transcripts, key=lambda t: t.call_id):
        key = (masked(t), 0 if t.call_id.startswith("fresh9") else 1)
        groups.setdefault(key, []).append(t)
    out = []
    for key in sorted(groups):
        by_lang: dict[str, list] = {}
        for t in groups[key]:
            by_lang.setdefault(t.language or "?", []).append(t)
        i = 0
        while any(len(g) > i for g in by_lang.values()):
            out += [g[i] for _, g in sorted(by_lang.items()) if len(g) > i]
            i += 1
    return out


def load_calls(batches):
    from qa.model import Transcript
    calls = []
    for b in batches:
        calls += [Transcript.load(p) for p in sorted((FRESH / b).glob("fresh*.json"))]
    return calls


def render_and_transcribe(t, cache: Path = CACHE, audio_dir: Path = AUDIO):
    """Speak ``t`` with Kokoro, transcribe it, save and return the Whisper transcript: as
    ``bench/heldout_speech.py`` does, masks (<PER>, <NUM>) first replaced by plausible words (the
    call as spoken saved beside it, ``<id>.src.json``)."""
    from heldout_speech import render_and_transcribe as render

    cache.mkdir(parents=True, exist_ok=True)
    if masked(t):
        t = unmask(t)
        t.save(cache / f"{t.call_id}.src.json")
    return render(t, cache, audio_dir)


def cmd_render(args) -> int:
    from heldout_speech import render_missing, select_calls

    try:
        calls = select_calls(balanced_order(load_calls(args.batches)), args.calls, args.limit, "calls of these batches")
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    render_missing(calls, CACHE, render_and_transcribe)
    return 0


def read_labels(batch: str) -> dict:
    with open(FRESH / batch / "labels.csv", encoding="utf-8") as f:
        return {r["call_id"]: r for r in csv.DictReader(f)}


def cached_pairs(calls=None):
    """(source transcript, Whisper transcript, labels row) of every cached call, in call id order."""
    from qa.model import Transcript
    out = []
    labels: dict[str, dict] = {}
    for p in sorted(CACHE.glob("fresh*.json")):
        if p.name.endswith(".src.json"):
            continue
        cid = p.stem
        if calls and cid not in calls:
            continue
        src = CACHE / f"{cid}.src.json"
        batch = "batch" + re.match(r"fresh(\d+)-", cid).group(1)  # fresh11-de-004: rules_fresh/batch11
        if batch not in labels:
            labels[batch] = read_labels(batch)
        ref = Transcript.load(src if src.exists() else FRESH / batch / f"{cid}.json")
        out.append((ref, Transcript.load(p), labels[batch].get(cid, {})))
    return out


CORE = ["saluto", "nome_cliente", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione",
        "congedo", "protezione_dati", "identificazione", "empatia", "proposta_disdetta"]


def compare(pairs):
    """Per criterion: n labelled, text==label, speech==label, text==speech; and the differences."""
    from qa.rubric import score_transcripts
    ev_t = {e.call_id: e for e in score_transcripts([p[0] for p in pairs])}
    ev_s = {e.call_id: e for e in score_transcripts([p[1] for p in pairs])}
    table, diffs = {}, []
    for c in CORE:
        n = agree_t = agree_s = same = 0
        for ref, asr, lab in pairs:
            rt, rs = ev_t[ref.call_id].result(c), ev_s[ref.call_id].result(c)
            a, b = (rt.result if rt else "missing"), (rs.result if rs else "missing")
            same += a == b
            if a != b:
                diffs.append((ref.call_id, c, lab.get(c, ""), a, b))
            if lab.get(c):
                n += 1
                agree_t += a == lab[c]
                agree_s += b == lab[c]
        table[c] = (n, agree_t, agree_s, same)
    return table, diffs


def cmd_compare(args) -> int:
    pairs = cached_pairs(args.calls)
    if not pairs:
        print("no cached transcripts", file=sys.stderr)
        return 1
    table, diffs = compare(pairs)
    print(f"{len(pairs)} tuned-on calls through Kokoro + Whisper base")
    print(f"{'criterion':22} {'n':>3} {'text=label':>11} {'speech=label':>13} {'text=speech':>12}")
    tot = [0, 0, 0]
    for c, (n, at, as_, same) in table.items():
        print(f"{c:22} {n:3d} {at / max(n, 1):11.1%} {as_ / max(n, 1):13.1%} {same / len(pairs):12.1%}")
        tot[0] += n; tot[1] += at; tot[2] += as_
    print(f"{'all':22} {tot[0]:3d} {tot[1] / tot[0]:11.1%} {tot[2] / tot[0]:13.1%} {len(diffs):>5} differences")
    langs = sum(a.language != r.language for r, a, _ in pairs)
    print(f"language detected wrong: {langs}")
    if args.verbose:
        for d in diffs:
            print("  %s %-20s label=%-5s text=%-5s speech=%s" % d)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--limit", type=int)
    r.add_argument("--calls", nargs="*")
    r.add_argument("--batches", nargs="*", default=["batch9", "batch8"])
    c = sub.add_parser("compare")
    c.add_argument("--calls", nargs="*")
    c.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    return cmd_render(args) if args.cmd == "render" else cmd_compare(args)


if __name__ == "__main__":
    sys.exit(main())
