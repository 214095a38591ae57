"""Would a result that changes with the trust given to inferred speakers be worth a human look?

On a mono call the speakers are inferred (``qa.analysis.roles``), and the rules trust an inferred
speaker only from ``SCORING_ROLE_CONFIDENCE`` (0.7; below it a turn counts for either party). This
scores the LUNA dev calls three times, trusting every inferred speaker (0.5), the production
threshold (0.7) and only near-certain ones (0.95), and counts, per split, how often the production
result is wrong where it changes across the three (``flagged``) and where it does not. A flag worth
adding to the review queue would be wrong much more often than the rest on the held-out calls.
Held-out: aggregates only.

    python bench/role_sensitivity.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

THRESHOLDS = (0.5, 0.95)


def measure(name: str) -> dict[str, list[int]]:
    """{"flagged": [wrong, right], "unflagged": [wrong, right]} over every labelled criterion of set ``name``."""
    import agreement as A
    import qa.rubric.context as C

    s = A.load_set(name)
    base = C.SCORING_ROLE_CONFIDENCE
    runs = {}
    try:
        for thr in (base, *THRESHOLDS):
            C.SCORING_ROLE_CONFIDENCE = thr
            runs[thr] = {e.call_id: e for e in A.score_all(copy.deepcopy(s.transcripts))}
    finally:
        C.SCORING_ROLE_CONFIDENCE = base
    out = {"flagged": [0, 0], "unflagged": [0, 0]}
    for cid, row in s.labels.items():
        for c in A.CORE:
            if not row.get(c):
                continue
            prod = runs[base][cid].result(c).result
            flagged = any(runs[t][cid].result(c).result != prod for t in THRESHOLDS)
            out["flagged" if flagged else "unflagged"][0 if prod != row[c] else 1] += 1
    return out


def main() -> int:
    for name, status in (("luna-tune", "tuned-on"), ("luna-heldout", "held-out")):
        r = measure(name)
        (fw, fr), (uw, ur) = r["flagged"], r["unflagged"]
        print(f"{name} ({status}): flagged {fw + fr} results, wrong {fw} ({fw / max(1, fw + fr):.0%}); "
              f"not flagged {uw + ur}, wrong {uw} ({uw / max(1, uw + ur):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
