"""Build the tune4 JSON transcripts from dialogues.txt (timing from word counts: 0.33 s a word,
0.5 s between segments). Run from this folder: python make_json.py"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = "rules helper, written by hand 2026-12-07 (tune4: tuning dialogues for identificazione and protezione_dati, issue 12)"


def build():
    calls, cur = [], None
    for line in (HERE / "dialogues.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("== "):
            cid, lang, ctype, domain = line[3:].split()
            cur = {"call_id": cid, "language": lang, "duration": 0.0,
                   "metadata": {"call_type": ctype, "domain": domain, "source": SOURCE}, "segments": []}
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
        (HERE / f"{c['call_id']}.json").write_text(json.dumps(c, ensure_ascii=False, indent=1) + "\n",
                                                   encoding="utf-8")
    return len(calls)


if __name__ == "__main__":
    print(build())
