"""Transcripts: ``redact_transcript`` (segment texts and word lists masked, timestamps of each
finding) and evidence quotes masked with the same context (``redact_quote``, ``redact_evidence``)."""

from __future__ import annotations

from typing import Any, Sequence

from ..model import Segment, Transcript, Word
from .detectors import Span, find_pii, redact_text

# --------------------------------------------------------------------------------------------
# Transcripts
# --------------------------------------------------------------------------------------------

def _locate_words(text: str, words: Sequence[Word]) -> list[tuple[int, int]] | None:
    """Character span of each word inside ``text`` (None if the words do not follow the text)."""
    out = []
    pos = 0
    low = text.lower()
    for w in words:
        token = w.word.strip().lower()
        if not token:
            out.append((pos, pos))
            continue
        k = low.find(token, pos)
        if k < 0 or low[pos:k].strip(" \t\n,.;:!?\"'«»-") != "":
            return None
        out.append((k, k + len(token)))
        pos = k + len(token)
    return out


def _mask_words(words: list[Word], word_spans: list[tuple[int, int]], spans: list[Span]) -> list[Word]:
    """Words overlapping a span are replaced, once per span, by the mask token (timestamps kept)."""
    out: list[Word] = []
    consumed: dict[int, Word] = {}
    for w, (ws, we) in zip(words, word_spans):
        hit = next((k for k, sp in enumerate(spans) if ws < sp.end_char and we > sp.start_char and we > ws), None)
        if hit is None:
            out.append(w)
            continue
        if hit in consumed:
            consumed[hit].end = max(consumed[hit].end, w.end)
            continue
        lead = " " if w.word.startswith(" ") else ""
        new = Word(lead + spans[hit].mask, w.start, w.end, None)
        consumed[hit] = new
        out.append(new)
    return out


CONTEXT_TURNS = 3  # previous turns that give context ("Ihr Geburtsdatum?" -> "Siebter Mai 1981")


def redact_transcript(transcript: Transcript, lang: str | None = None) -> tuple[Transcript, list[dict[str, Any]]]:
    """A copy of ``transcript`` with personal data masked in segment texts and word lists.

    Returns the new transcript and one record per finding: ``segment`` (index), ``speaker``,
    ``kind``, ``start``/``end`` (seconds: from the word timestamps when the segment has words,
    else estimated in proportion to the character position), ``start_char``/``end_char`` in the
    original segment text. The personal data itself is not in the records.
    """
    lang = lang or transcript.language
    new_segments: list[Segment] = []
    records: list[dict[str, Any]] = []
    for idx, seg in enumerate(transcript.segments):
        context = " ".join(s.text for s in transcript.segments[max(0, idx - CONTEXT_TURNS):idx])
        masked, spans = redact_text(seg.text, lang, context)
        words = seg.words
        new_words = None if words is None else list(words)
        word_spans = _locate_words(seg.text, words) if words else None
        if words and word_spans is None:
            # words do not follow the text: find the data again in the words' own text
            joined, word_spans = "", []
            for w in words:
                tok = w.word.strip()
                if joined:
                    joined += " "
                word_spans.append((len(joined), len(joined) + len(tok)))
                joined += tok
            word_level_spans = find_pii(joined, lang, context)
        else:
            word_level_spans = spans
        if words:
            new_words = _mask_words([Word(w.word, w.start, w.end, w.probability) for w in words], word_spans,
                                    word_level_spans)
        for k, sp in enumerate(spans):
            start = end = None
            timing = "estimated"
            if words and word_spans is not None:
                ref = word_level_spans[k] if word_level_spans is spans else None
                if ref is None:  # pair by order and kind in the words' own text
                    same = [s for s in word_level_spans if s.kind == sp.kind]
                    nth = sum(1 for s in spans[:k] if s.kind == sp.kind)
                    ref = same[nth] if nth < len(same) else None
                if ref is not None:
                    hit = [w for w, (ws, we) in zip(words, word_spans) if ws < ref.end_char and we > ref.start_char]
                    if hit:
                        start, end = min(w.start for w in hit), max(w.end for w in hit)
                        timing = "words"
            if start is None:
                n = max(len(seg.text), 1)
                dur = seg.end - seg.start
                start = seg.start + dur * sp.start_char / n
                end = seg.start + dur * sp.end_char / n
            records.append({"segment": idx, "speaker": seg.speaker, "kind": sp.kind,
                            "start": round(start, 3), "end": round(end, 3),
                            "start_char": sp.start_char, "end_char": sp.end_char, "timing": timing})
        new_segments.append(Segment(seg.speaker, seg.start, seg.end, masked, new_words, seg.confidence,
                                    dict(seg.extra)))
    out = Transcript(transcript.call_id, new_segments, transcript.language, transcript.duration,
                     dict(transcript.metadata), dict(transcript.extra))
    return out, records


def _context_before(segments: Sequence[Segment], idx: int) -> str:
    """The text the transcript pass reads as context for segment ``idx`` (its CONTEXT_TURNS previous turns)."""
    return " ".join(s.text for s in segments[max(0, idx - CONTEXT_TURNS):idx])


def redact_quote(text: str, transcript: Transcript, speaker: str | None = None, start: float | None = None,
                 end: float | None = None, lang: str | None = None) -> str:
    """An evidence quote taken from ``transcript`` masked exactly as :func:`redact_transcript` masks
    the segment it comes from: with that segment's whole text and its previous turns as context, so
    that "Sette maggio 1981" answering "la sua data di nascita?" is ``[DATA_NASCITA]`` in the quote
    as in the transcript (masking the quote alone would miss it).

    The segment is the one whose text contains the quote, preferring the same ``speaker`` and the
    time span ``start``-``end``; a quote found in no segment is masked with the turns before
    ``start`` as context."""
    lang = lang or transcript.language
    segs = transcript.segments
    q = text.strip()
    if not q:
        return text
    lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    best: tuple[int, int, int] | None = None  # (rank, segment index, offset)
    for idx, seg in enumerate(segs):
        k = seg.text.find(q)
        if k < 0:
            k = seg.text.casefold().find(q.casefold()) if len(seg.text.casefold()) == len(seg.text) else -1
        if k < 0:
            continue
        rank = (speaker is not None and seg.speaker == speaker) + \
            (start is not None and end is not None and seg.start < end + 0.01 and seg.end > start - 0.01) * 2
        if best is None or rank > best[0]:
            best = (rank, idx, k)
    if best is not None:
        _, idx, k = best
        seg = segs[idx]
        context = _context_before(segs, idx)
        qe = k + len(q)
        out = q
        for sp in reversed(find_pii(seg.text, lang, context)):
            if sp.start_char < qe and sp.end_char > k:
                a, b = max(sp.start_char, k) - k, min(sp.end_char, qe) - k
                out = out[:a] + sp.mask + out[b:]
        return lead + redact_text(out, lang, context)[0] + trail
    before = [i for i, s in enumerate(segs) if start is not None and s.start < start - 0.01]
    context = _context_before(segs, (before[-1] + 1) if before else 0)
    return lead + redact_text(q, lang, context)[0] + trail


def redact_evidence(evaluation, transcript: Transcript, lang: str | None = None):
    """A copy of ``evaluation`` (``qa.model.Evaluation``) whose evidence quotes are masked with
    :func:`redact_quote` (the same context as the transcript pass)."""
    import copy

    out = copy.deepcopy(evaluation)
    for c in out.criteria:
        for e in c.evidence:
            e.text = redact_quote(e.text, transcript, e.speaker, e.start, e.end, lang)
    return out
