"""Write turni_luna.tsv: the turns of the 20 LUNA dev calls of the ``tune`` split (tests/data/luna_dev,
split.csv), text as in the transcript and role as adjudicated (turns.csv), one group per call, rows
in the order spoken. The ``heldout`` calls are never read.

    python modelli/dati/ruoli_luna/build.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
LUNA = HERE.parents[2] / "tests" / "data" / "luna_dev"


def main() -> int:
    with (LUNA / "split.csv").open(encoding="utf-8", newline="") as fh:
        tune = sorted(r["call_id"] for r in csv.DictReader(fh) if r["split"].strip() == "tune")
    roles: dict[str, dict[int, str]] = {c: {} for c in tune}
    with (LUNA / "turns.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["call_id"] in roles:
                roles[r["call_id"]][int(r["turn"])] = r["speaker"].strip()
    rows = 0
    with (HERE / "turni_luna.tsv").open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(["text", "label", "lang", "group"])
        for cid in tune:
            segs = json.loads((LUNA / "transcripts" / f"{cid}.json").read_text(encoding="utf-8"))["segments"]
            for i, s in enumerate(segs):
                if roles[cid].get(i) in ("agent", "customer"):
                    w.writerow([" ".join(s["text"].split()), roles[cid][i], "it", cid])
                    rows += 1
    print(f"{len(tune)} calls, {rows} turns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
