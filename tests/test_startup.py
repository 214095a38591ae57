"""What a process pays before it scores its first call: every CLI command and every worker of an
ingest pool is a new process, so start-up is paid hundreds of times a day (and in the test suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from qa.langdata import SAFE_LOADER

ROOT = Path(__file__).resolve().parents[1]
CALL = sorted((ROOT / "tests" / "data" / "devset").glob("dev-*.json"))[0]

SCRIPT = f"""
import sys
from qa.model import Transcript
from qa.rubric import score_transcript
ev = score_transcript(Transcript.load({str(CALL)!r}))
print("torch loaded while scoring:", "torch" in sys.modules)
print("criteria:", len(ev.criteria))
import thinc.compat, torch  # PyTorch still imports, later, for the engine that needs it
print("thinc saw torch:", thinc.compat.has_torch)
print("torch works:", torch.tensor([1.0, 2.0]).sum().item())
"""


def test_scoring_a_call_never_imports_pytorch_but_pytorch_still_imports_afterwards():
    """spaCy's thinc would import PyTorch (installed with the openai-whisper extra) at start: seconds
    of CPU per process for nothing. qa.rubric imports thinc with PyTorch hidden."""
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = dict(line.split(": ", 1) for line in p.stdout.splitlines())
    assert lines["torch loaded while scoring"] == "False"
    assert int(lines["criteria"]) >= 8
    assert lines["thinc saw torch"] == "False" and lines["torch works"] == "3.0"


def test_the_fast_yaml_parser_is_used_and_keeps_line_marks():
    """The language files and rubrics are parsed by libyaml where PyYAML has it; its nodes carry the
    line marks the file:line error messages are built from."""
    assert SAFE_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    node = yaml.compose("a: 1\nb:\n  - x\n  - y\n", Loader=SAFE_LOADER)
    b_key, b_value = node.value[1]
    assert (b_key.value, b_key.start_mark.line, b_value.value[1].start_mark.line) == ("b", 1, 3)
