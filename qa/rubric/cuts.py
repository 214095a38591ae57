"""Phrases matched across a sentence the recogniser cut in two: a segment that ends without a full
stop, continued by the next segment of the same speaker's turn ("avec votre numéro" | "de
téléphone", "Bonjour, Assurances Léman, Claire" | "à l'appareil"), in a punctuated transcript.
Used by ``qa.rubric.context.CallContext`` when it is built."""

from __future__ import annotations

import re

import numpy as np

_SENTENCE_END = re.compile(r"[.!?…]['\"»”)\s]*$")
JOIN_WORDS = 6  # words matched again on either side of a cut


def match_across_cuts(ctx, lm) -> frozenset[int]:
    """Segments ``i`` of the call ``ctx`` (a ``CallContext``) whose sentence the recogniser cut,
    continuing in segment ``i + 1`` of the same turn, in a punctuated transcript (most segments end
    with a full stop, as Whisper writes them); the phrases of matcher ``lm`` that span such a cut are
    added to ``ctx._matches`` (main-doc token spans that step over the line break between the two
    segments). The last ``JOIN_WORDS`` words of
    ``i`` and the first of ``i + 1`` are matched again, every cut of the call in one small doc."""
    doc, segs = ctx.doc, ctx.segs
    n = len(segs)
    said = [sg.text for sg in segs if sg.text.strip()]
    if 2 * sum(1 for tx in said if _SENTENCE_END.search(tx)) < len(said):
        return frozenset()  # no punctuation to tell a cut sentence from a turn's end (unpunctuated ASR)
    pieces, maps, joins = [], [], []
    starts = ctx.seg_tok_start
    for i in range(n - 1):
        if ctx.turn_of[i] != ctx.turn_of[i + 1] or ctx.speakers[i] == "unknown":
            continue
        if not segs[i + 1].text.strip() or not segs[i].text.strip() or _SENTENCE_END.search(segs[i].text):
            continue
        end_b = int(starts[i + 2]) if i + 2 < n else len(doc)
        ta = [j for j in range(int(starts[i]), int(starts[i + 1])) if not doc[j].is_space]
        tb = [j for j in range(int(starts[i + 1]), end_b) if not doc[j].is_space]
        if not ta or not tb:
            continue
        # whole whitespace-separated chunks, so that the small doc is tokenised like the call
        a = max(0, len(ta) - JOIN_WORDS)
        while a > 0 and not doc[ta[a] - 1].whitespace_:
            a -= 1
        b = min(len(tb), JOIN_WORDS)
        while b < len(tb) and not doc[tb[b - 1]].whitespace_:
            b += 1
        ta, tb = ta[a:], tb[:b]
        pieces.append(doc[ta[0]:ta[-1] + 1].text + " " + doc[tb[0]:tb[-1] + 1].text)
        maps.append((ta, tb))
        joins.append(i)
    if not joins:
        return frozenset()
    small = ctx.nlp.make_doc("\n".join(pieces))
    # token index of the small doc -> (cut number, main-doc token)
    where: list = []
    k = 0
    for c, (ta, tb) in enumerate(maps):
        for j in ta + tb:
            while k < len(small) and small[k].is_space:
                where.append(None)
                k += 1
            if k >= len(small) or small[k].text != doc[j].text:
                return frozenset()  # tokenised differently: no matches across cuts
            where.append((c, j, j in tb))
            k += 1
    where += [None] * (len(small) - len(where))
    added = False
    for key, spans in lm(small).items():
        if isinstance(spans, np.ndarray):
            spans = spans.tolist()
        extra = []
        for s, e in spans:
            first, last = where[s], where[e - 1]
            if first is None or last is None or first[0] != last[0] or first[2] or not last[2]:
                continue  # within one segment (already matched) or across two cuts
            extra.append((first[1], last[1] + 1))
        if extra:
            got = ctx._matches.get(key)
            if isinstance(got, np.ndarray):
                got = [tuple(x) for x in got.tolist()]
            ctx._matches[key] = list(got or ()) + extra
            added = True
    return frozenset(joins) if added else frozenset()
