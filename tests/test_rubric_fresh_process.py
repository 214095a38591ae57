"""A call scores the same in a fresh process as in a warm one. The rubrics' phrases are compiled
lazily, after the first batch of calls is tokenised; misspelt words (Whisper's "Kundinummer" for
"Kundennummer") are mapped to the rubric vocabulary by fuzzy matching, and that mapping must reach
the documents tokenised before the phrases were compiled (it once did not: the first calls of a
`qa demo` / `qa ingest` run lost every fuzzy match)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
from qa.model import Transcript
from qa.rubric import score_transcript
t = Transcript.load(sys.argv[1])
misspelt = t.to_dict()
for seg in misspelt["segments"]:
    # as Whisper heard the Kokoro render: the customer number misspelt (fuzzy-matchable), the
    # postcode beyond repair, so the customer number is the only personal data left to find
    seg["text"] = seg["text"].replace("Kundennummer", "Kundinummer").replace("Postleitzahl", "Postleitsaal")
first = score_transcript(Transcript.from_dict(misspelt))     # fresh process: nothing compiled yet
again = score_transcript(Transcript.from_dict(misspelt))     # warm
right = score_transcript(t)                                  # the words as spoken
print(json.dumps([{c.id: c.result for c in ev.criteria} for ev in (first, again, right)]))
"""


def test_first_call_of_a_process_matches_misspelt_words_like_later_ones():
    src = ROOT / "samples" / "transcripts" / "DEMO-DE-02.json"
    assert "Kundennummer" in src.read_text(encoding="utf-8") and "Postleitzahl" in src.read_text(encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(src)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=True)
    first, again, right = json.loads(out.stdout.strip().splitlines()[-1])
    assert first == again
    # the customer number is the only personal data / identity check asked for in this call
    assert first["protezione_dati"] == right["protezione_dati"] == "fail"
    assert first["identificazione"] == right["identificazione"] == "pass"
