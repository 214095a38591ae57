"""Build ruoli_<lang>.tsv (text, label, lang, group) from the authored dialogues dialoghi_*.txt.

Each dialogue starts with ``## <id> <domain>``; each line is ``a| text`` (agent) or ``c| text``
(customer), in the order spoken. The TSV keeps that order (one group per dialogue), so the
dialogues can be read back whole (``qa.analysis.roles_text.read_dialogues``), and holds each text as
the classifier sees it (``qa.analysis.roles_text.normalise_text``: masks such as <PER> read as plain
words), so that every training path (``qa train``, ``train_role_model``) trains on what scoring
predicts on. Like a speech
segmenter, a turn of ten words or more is cut into two or three segments at word boundaries
(deterministic: seeded by the dialogue id and the turn's position), each a training row of its own.

    python modelli/dati/ruoli_spont/build.py
"""

from __future__ import annotations

import csv
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from qa.analysis.roles_text import normalise_text  # noqa: E402
LABELS = {"a": "agent", "c": "customer"}
CUT_MIN_WORDS = 10


def read_source(path: Path) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(dialogue id, domain, [(label, text), ...]) of every dialogue in ``path``."""
    out: list[tuple[str, str, list[tuple[str, str]]]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("##"):
            did, domain = line[2:].split()
            out.append((did, domain, []))
            continue
        m = re.fullmatch(r"([ac])\|\s*(.+)", line)
        if not m or not out:
            raise ValueError(f"{path.name}:{n}: expected 'a| text' or 'c| text'")
        out[-1][2].append((LABELS[m.group(1)], m.group(2)))
    return out


def cut(text: str, rng: random.Random) -> list[str]:
    """A long turn cut where a segmenter might cut it: anywhere between words, not just at a clause end."""
    words = text.split()
    if len(words) < CUT_MIN_WORDS or rng.random() < 0.35:
        return [text]
    pieces = 2 if len(words) < 18 or rng.random() < 0.6 else 3
    points = sorted(rng.sample(range(2, len(words) - 1), pieces - 1))
    bounds = [0, *points, len(words)]
    return [" ".join(words[a:b]) for a, b in zip(bounds, bounds[1:])]


def main() -> int:
    """Write ruoli_<lang>.tsv from every dialoghi_*.txt beside this script."""
    rows: dict[str, list[tuple[str, str, str, str]]] = {}
    for src in sorted(HERE.glob("dialoghi_*.txt")):
        for did, _domain, turns in read_source(src):
            lang = did.split("-")[0]
            rng = random.Random(did)
            for label, text in turns:
                for piece in cut(text, rng):
                    rows.setdefault(lang, []).append((normalise_text(piece), label, lang, f"spont-{did}"))
    for lang, rs in sorted(rows.items()):
        with (HERE / f"ruoli_{lang}.tsv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
            w.writerow(["text", "label", "lang", "group"])
            w.writerows(rs)
        print(f"ruoli_{lang}.tsv: {len(rs)} segments")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
