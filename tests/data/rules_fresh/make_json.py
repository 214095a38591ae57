"""Build a folder's JSON transcripts from its dialogues.txt (timing from word counts: 0.33 s a word,
0.5 s between segments). From this folder: python make_json.py batch3 (or tune3, tune4)."""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = {
    "batch3": "rules helper, written by hand 2026-12-07 (batch 3, labelled before any scoring)",
    "tune3": "rules helper, written by hand 2026-12-07 (tune3: tuning dialogues of the third round)",
    "tune4": "rules helper, written by hand 2026-12-07 (tune4: tuning dialogues for identificazione and protezione_dati, issue 12)",
    "batch5": "independent author, written by hand 2026-12-07 (batch 5, labelled before any scoring)",
    "batch6": "independent author, written by hand 2026-12-07 (batch 6, labelled before any scoring)",
    "batch7": "independent author, written by hand 2026-12-07 (batch 7, real-call style, labelled before any scoring)",
    "batch8": "independent author, written by hand 2026-12-07 (batch 8, untouched check, labelled before any scoring)",
    "batch9": "independent author, written by hand 2026-12-07 (batch 9, untouched check, labelled before any scoring)",
    "batch10": "independent author, written by hand 2026-12-07 (batch 10, untouched check, labelled before any scoring)",
    "batch11": "independent author, written by hand 2026-12-07 (batch 11, untouched check, labelled before any scoring)",
    "batch12": "independent author, written by hand 2026-12-07 (batch 12, untouched check, labelled before any scoring)",
    "batch13": "independent author, written by hand 2026-12-07 (batch 13, untouched check, labelled before any scoring)",
    "batch14": "independent author, written by hand 2026-12-07 (batch14, untouched check, labelled before any scoring)",
    "batch15": "independent author, written by hand 2026-12-07 (batch15, untouched check, labelled before any scoring)",
    "batch16": "independent author, written by hand 2026-12-07 (batch16, untouched check, labelled before any scoring)",
    "batch17": "independent author, written by hand 2026-12-07 (batch17, untouched check, labelled before any scoring)",
    "batch18": "independent author, written by hand 2026-12-07 (batch18, untouched check, labelled before any scoring)",
    "batch19": "independent author, written by hand 2026-12-07 (batch19, untouched check, labelled before any scoring)",
    "batch20": "independent author, written by hand 2026-12-07 (batch20, untouched check, labelled before any scoring)",
    "batch21": "independent author, written by hand 2026-12-07 (batch21, untouched check, labelled before any scoring)",
    "batch22": "independent author, written by hand 2026-12-07 (batch22, untouched check, labelled before any scoring)",
    "batch23": "independent author, written by hand 2026-12-07 (batch23, untouched check, labelled before any scoring)",
    "batch24": "independent author, written by hand 2026-12-07 (batch24, untouched check, labelled before any scoring)",
    "batch25": "independent author, written by hand 2026-12-07 (batch25, untouched check, labelled before any scoring)",
    "batch26": "independent author, written by hand 2026-12-07 (batch26, untouched check, labelled before any scoring)",
    "batch27": "independent author, written by hand 2026-12-07 (batch27, untouched check, labelled before any scoring)",
    "batch28": "independent author, written by hand 2026-12-07 (batch28, untouched check, labelled before any scoring)",
}


def build(folder: str) -> int:
    """Write one <call_id>.json per dialogue of ``folder``/dialogues.txt; the number of calls."""
    d, source = HERE / folder, SOURCES[folder]
    calls, cur = [], None
    for line in (d / "dialogues.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("== "):
            cid, lang, ctype, domain = line[3:].split()
            cur = {"call_id": cid, "language": lang, "duration": 0.0,
                   "metadata": {"call_type": ctype, "domain": domain, "source": source}, "segments": []}
            calls.append(cur)
            continue
        who, text = line.split(":", 1)
        segs = cur["segments"]
        start = segs[-1]["end"] + 0.5 if segs else 0.0
        end = round(start + 0.33 * len(text.split()), 2)
        segs.append({"speaker": {"a": "agent", "c": "customer"}[who], "start": round(start, 2),
                     "end": end, "text": text.strip()})
        cur["duration"] = end
    for c in calls:
        (d / f"{c['call_id']}.json").write_text(json.dumps(c, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(calls)


if __name__ == "__main__":
    for folder in sys.argv[1:] or sorted(SOURCES):
        print(folder, build(folder))
