"""Call metrics in the spirit of Amazon Connect Contact Lens / Transcribe Call Analytics.

``compute_metrics(transcript)`` returns a JSON-able dict (all times in seconds, shares in 0..1):

``duration``            call length: ``transcript.duration`` or the last segment end (the larger)
``timing``              ``"words"`` (every segment has word timestamps), ``"segments"`` (none has)
                        or ``"mixed"``
``talk_time``           ``{agent, customer, unknown, total}``: time each speaker talks (union of
                        their speech intervals); ``total`` is the time anybody talks
``talk_share``          each speaker's talk time / the sum of the speakers' talk times
``talk_share_of_call``  each speaker's talk time / ``duration``
``non_talk_time``       ``duration`` - ``talk_time.total`` (lead-in, pauses, tail); ``non_talk_share``
``longest_silence``     ``{duration, start, end}`` of the longest pause between two stretches of
                        speech (nobody talking), or None; ``leading_silence``, ``trailing_silence``
``overtalk``            ``{count, duration, share, episodes: [{start, end, duration, speakers,
                        interrupter, interrupted}]}``: stretches where two or more speakers talk
``interruptions``       ``{count, duration, by: {agent, customer, unknown}}``: overtalk episodes of at
                        least ``INTERRUPTION_MIN_OVERLAP`` s started by a speaker while another was
                        already talking (attributed to the one who started later)
``words``               words per speaker (the word list when present, else the text's words)
``speech_rate_wpm``     words per minute of own talk time, per speaker (None without talk)
``time_to_greeting``    seconds from the start of the recording to the agent's first greeting
                        (a phrase of ``GREETINGS``), or None; ``greeting`` gives segment/phrase
                        (without agent-labelled segments the first greeting by anybody counts,
                        and ``greeting.speaker`` says who)
``agent_first_speech``  start of the agent's first speech, or None
``longest_monologue``   per speaker ``{duration, start, end}``: the longest stretch a speaker talks
                        while nobody else starts talking and with no own pause over
                        ``MONOLOGUE_MAX_PAUSE`` s
``sentiment``           (unless ``with_sentiment=False``) ``turns``: ``[{segment, speaker, start,
                        end, score, label}]``; ``overall``: per speaker the duration-weighted mean
                        score; ``quarters``: per speaker four duration-weighted means (a turn
                        belongs to the quarter of the call its midpoint falls in; None if no turn);
                        ``trend``: per speaker last non-empty quarter minus first

Speech intervals: a segment with words talks during its words (gaps up to ``WORD_BRIDGE`` s
between words are bridged), a segment without words during [start, end]. Segments may overlap.
"""

from __future__ import annotations

import re
from typing import Any

from ..langdata import all_languages
from ..model import SPEAKERS, Transcript
from ..text import WORD_RE, fold, fold_words

WORD_BRIDGE = 0.25
INTERRUPTION_MIN_OVERLAP = 0.5
MONOLOGUE_MAX_PAUSE = 2.0

# Greeting phrases that open a call (Italian first), from the language data files
# (rubriche/lingue/<lang>.yaml, ``greetings``). Matched on lower-case text without punctuation, as
# whole words.
GREETINGS: dict[str, list[str]] = {lang: [fold(p, accents=True, sharp_s=False) for p in data.greetings]
                                   for lang, data in all_languages().items()}

_WORD_RE = WORD_RE


# --------------------------------------------------------------------------------------------
# interval helpers
# --------------------------------------------------------------------------------------------

def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(a, b) for a, b in out]


def _length(intervals: list[tuple[float, float]]) -> float:
    return sum(e - s for s, e in intervals)


def _segment_intervals(seg) -> list[tuple[float, float]]:
    words = [w for w in (seg.words or []) if w.end > w.start and w.word.strip()]
    if not words:
        return [(seg.start, seg.end)] if seg.end > seg.start else []
    out: list[list[float]] = []
    for w in sorted(words, key=lambda w: w.start):
        if out and w.start - out[-1][1] <= WORD_BRIDGE:
            out[-1][1] = max(out[-1][1], w.end)
        else:
            out.append([w.start, w.end])
    return [(a, b) for a, b in out]


def _count_words(seg) -> int:
    if seg.words:
        return sum(1 for w in seg.words if _WORD_RE.search(w.word))
    return len(_WORD_RE.findall(seg.text))


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


# --------------------------------------------------------------------------------------------
# overtalk
# --------------------------------------------------------------------------------------------

def _overtalk(unions: dict[str, list[tuple[float, float]]]) -> list[dict[str, Any]]:
    events = []
    for spk, ivs in unions.items():
        for s, e in ivs:
            events.append((s, 1, spk))
            events.append((e, -1, spk))
    # ends before starts at the same instant: touching turns are not overtalk
    events.sort(key=lambda ev: (ev[0], ev[1]))
    active: dict[str, float] = {}  # speaker -> start of its current interval
    episodes: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for t, kind, spk in events:
        if kind == 1:
            active[spk] = t
        else:
            active.pop(spk, None)
        if len(active) >= 2 and current is None:
            order = sorted(active.items(), key=lambda kv: kv[1])
            later, earlier = order[-1], order[0]
            current = {"start": t, "speakers": sorted(active),
                       "interrupter": later[0] if later[1] > earlier[1] else None,
                       "interrupted": earlier[0] if later[1] > earlier[1] else None}
        elif len(active) >= 2 and current is not None:
            current["speakers"] = sorted(set(current["speakers"]) | set(active))
        elif len(active) < 2 and current is not None:
            current["end"] = t
            if current["end"] > current["start"]:
                episodes.append(current)
            current = None
    for ep in episodes:
        ep["duration"] = ep["end"] - ep["start"]
    return episodes


# --------------------------------------------------------------------------------------------
# greeting
# --------------------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return fold_words(text, accents=True, sharp_s=False)


def _greeting_phrases(lang: str | None) -> list[str]:
    lang = (lang or "")[:2].lower()
    langs = [lang] if lang in GREETINGS else list(GREETINGS)
    phrases = sorted({p for lg in langs for p in GREETINGS[lg]}, key=len, reverse=True)
    return phrases


def _find_greeting(transcript: Transcript, lang: str | None) -> dict[str, Any] | None:
    phrases = _greeting_phrases(lang)
    rx = re.compile(r"(?<!\w)(" + "|".join(re.escape(p) for p in phrases) + r")(?!\w)")
    has_agent = any(s.speaker == "agent" for s in transcript.segments)
    order = sorted(range(len(transcript.segments)), key=lambda i: transcript.segments[i].start)
    for i in order:
        seg = transcript.segments[i]
        if has_agent and seg.speaker != "agent":
            continue
        if seg.words:
            folded_words = [_fold(w.word) for w in seg.words]
            joined = ""
            starts = []
            for fw in folded_words:
                if joined and fw:
                    joined += " "
                starts.append(len(joined))
                joined += fw
            m = rx.search(joined)
            if m:
                k = max(j for j, st in enumerate(starts) if st <= m.start())
                return {"time": seg.words[k].start, "segment": i, "phrase": m.group(1), "speaker": seg.speaker}
            continue
        raw = seg.text.lower()
        m = rx.search(fold(seg.text, accents=True, sharp_s=False))
        if m:
            frac = m.start() / max(len(raw), 1)
            return {"time": seg.start + (seg.end - seg.start) * frac, "segment": i, "phrase": m.group(1),
                    "speaker": seg.speaker}
    return None


# --------------------------------------------------------------------------------------------
# monologue
# --------------------------------------------------------------------------------------------

def _longest_monologue(unions: dict[str, list[tuple[float, float]]], spk: str) -> dict[str, float] | None:
    mine = unions.get(spk) or []
    if not mine:
        return None
    others = sorted(s for o, ivs in unions.items() if o != spk for s, _ in ivs)
    best = None
    run_start, run_end = mine[0]
    for s, e in mine[1:]:
        interrupted = any(run_start < o <= s for o in others)
        if interrupted or s - run_end > MONOLOGUE_MAX_PAUSE:
            if best is None or run_end - run_start > best[1] - best[0]:
                best = (run_start, run_end)
            run_start, run_end = s, e
        else:
            run_end = max(run_end, e)
    if best is None or run_end - run_start > best[1] - best[0]:
        best = (run_start, run_end)
    return {"duration": _r(best[1] - best[0]), "start": _r(best[0]), "end": _r(best[1])}


# --------------------------------------------------------------------------------------------
# main entry
# --------------------------------------------------------------------------------------------

def compute_metrics(transcript: Transcript, with_sentiment: bool = True, lang: str | None = None) -> dict[str, Any]:
    """Talk, silence, overtalk, speech-rate, greeting, monologue and sentiment metrics of one call."""
    lang = lang or transcript.language
    segs = transcript.segments
    last_end = max((s.end for s in segs), default=0.0)
    duration = max(transcript.duration or 0.0, last_end)
    with_words = [bool(s.words) for s in segs]
    timing = "words" if segs and all(with_words) else ("segments" if not any(with_words) else "mixed")

    per_spk: dict[str, list[tuple[float, float]]] = {k: [] for k in SPEAKERS}
    words = {k: 0 for k in SPEAKERS}
    for seg in segs:
        per_spk[seg.speaker].extend(_segment_intervals(seg))
        words[seg.speaker] += _count_words(seg)
    unions = {k: _union(v) for k, v in per_spk.items()}
    talk = {k: _length(v) for k, v in unions.items()}
    anybody = _union([iv for v in unions.values() for iv in v])
    total = _length(anybody)
    sum_talk = sum(talk.values())

    gaps = [(a[1], b[0]) for a, b in zip(anybody, anybody[1:]) if b[0] > a[1]]
    longest = max(gaps, key=lambda g: g[1] - g[0], default=None)

    episodes = _overtalk({k: v for k, v in unions.items() if v})
    ot_dur = sum(ep["duration"] for ep in episodes)
    inter = [ep for ep in episodes if ep["interrupter"] and ep["duration"] >= INTERRUPTION_MIN_OVERLAP]
    by = {k: 0 for k in SPEAKERS}
    for ep in inter:
        by[ep["interrupter"]] += 1

    greeting = _find_greeting(transcript, lang)
    agent_first = unions["agent"][0][0] if unions["agent"] else None

    out: dict[str, Any] = {
        "duration": _r(duration),
        "timing": timing,
        "talk_time": {**{k: _r(talk[k]) for k in SPEAKERS}, "total": _r(total)},
        "talk_share": {k: _r(talk[k] / sum_talk if sum_talk else 0.0, 4) for k in SPEAKERS},
        "talk_share_of_call": {k: _r(talk[k] / duration if duration else 0.0, 4) for k in SPEAKERS},
        "non_talk_time": _r(duration - total),
        "non_talk_share": _r((duration - total) / duration if duration else 0.0, 4),
        "longest_silence": None if longest is None else {
            "duration": _r(longest[1] - longest[0]), "start": _r(longest[0]), "end": _r(longest[1])},
        "leading_silence": _r(anybody[0][0] if anybody else duration),
        "trailing_silence": _r(duration - anybody[-1][1] if anybody else 0.0),
        "overtalk": {
            "count": len(episodes),
            "duration": _r(ot_dur),
            "share": _r(ot_dur / duration if duration else 0.0, 4),
            "episodes": [{"start": _r(ep["start"]), "end": _r(ep["end"]), "duration": _r(ep["duration"]),
                          "speakers": ep["speakers"], "interrupter": ep["interrupter"],
                          "interrupted": ep["interrupted"]} for ep in episodes],
        },
        "interruptions": {"count": len(inter), "duration": _r(sum(ep["duration"] for ep in inter)), "by": by},
        "words": words,
        "speech_rate_wpm": {k: (_r(words[k] / (talk[k] / 60.0), 2) if talk[k] > 0 else None) for k in SPEAKERS},
        "time_to_greeting": None if greeting is None else _r(greeting["time"]),
        "greeting": None if greeting is None else {**greeting, "time": _r(greeting["time"])},
        "agent_first_speech": _r(agent_first),
        "longest_monologue": {k: _longest_monologue(unions, k) for k in SPEAKERS},
    }
    if with_sentiment:
        out["sentiment"] = _sentiment_metrics(transcript, duration, lang)
    return out


def _sentiment_metrics(transcript: Transcript, duration: float, lang: str | None) -> dict[str, Any]:
    from .sentiment import label_of, sentiment

    idx = [i for i, s in enumerate(transcript.segments) if s.text.strip()]
    scores = sentiment([transcript.segments[i].text for i in idx], lang) if idx else []
    turns = []
    for i, score in zip(idx, scores):
        seg = transcript.segments[i]
        turns.append({"segment": i, "speaker": seg.speaker, "start": _r(seg.start), "end": _r(seg.end),
                      "score": _r(score, 3), "label": label_of(score)})

    def wmean(items: list[tuple[float, float]]) -> float | None:
        wsum = sum(w for _, w in items)
        return None if not items or wsum <= 0 else sum(s * w for s, w in items) / wsum

    overall: dict[str, float | None] = {}
    quarters: dict[str, list[float | None]] = {}
    trend: dict[str, float | None] = {}
    q = duration / 4.0 if duration > 0 else 0.0
    for spk in SPEAKERS:
        mine = [(t["score"], max(t["end"] - t["start"], 0.1), (t["start"] + t["end"]) / 2.0)
                for t in turns if t["speaker"] == spk]
        overall[spk] = _r(wmean([(s, w) for s, w, _ in mine]), 3)
        qs: list[float | None] = []
        for k in range(4):
            items = [(s, w) for s, w, mid in mine if q > 0 and min(int(mid // q), 3) == k]
            qs.append(_r(wmean(items), 3))
        quarters[spk] = qs
        present = [v for v in qs if v is not None]
        trend[spk] = _r(present[-1] - present[0], 3) if len(present) >= 2 else None
    return {"turns": turns, "overall": overall, "overall_label": {k: (None if v is None else label_of(v))
                                                                   for k, v in overall.items()},
            "quarters": quarters, "trend": trend}
