"""More language data as data (issue 15): the spoken-number words of qa.redact.normalise, the words
that make a date no birth date (qa.redact.finders), both in section ``redaction``, and the role cues
and turn words of qa.analysis.roles_text / turns (section ``roles``) of rubriche/lingue/<lang>.yaml.
The tables are what the files say; a malformed section is one line with file:line; a word added to
a copy of the files changes behaviour in a fresh process (the tables are built on import)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.analysis import roles_text as R
from qa.analysis import turns as T
from qa.constants import LANGS
from qa.errors import QAError
from qa.langdata import data_dir, language_data, parse, redaction_words
from qa.redact import words as W

ROOT = Path(__file__).resolve().parents[1]

# A valid Italian file, written line by line (the line numbers matter): roles: is line 12.
HEAD = ("language: it\ngreetings: [ciao]\nredaction:\n  digits: {uno: 1}\n  separators: {punto: \".\"}\n"
        "  email_at: [chiocciola]\n  email_dot: [punto]\n  months: {gennaio: 1}\n  dob_context: [nato]\n")
LINES = {  # lines 10 .. 16
    "not_dob_before": "  not_dob_before: ['scad\\w*', fino al]\n",
    "multipliers": "  multipliers: [cento, mila]\n",
    "roles": "roles:\n",
    "agent_cues": "  agent_cues: ['Signora', 'apro (?:una|un) ']\n",
    "customer_cues": "  customer_cues: ['non mi']\n",
    "open_ended": "  open_ended: [di, \"l'\"]\n",
    "answer_openers": "  answer_openers: [sì, 'no']\n",
}


def _file(**replace: str) -> str:
    return HEAD + "".join(replace.get(k, v) for k, v in LINES.items()) + replace.get("extra", "")


def test_the_minimal_sections_are_valid_and_cues_keep_spaces_and_capitals():
    d = parse(_file(), "x.yaml")
    assert d.redaction.not_dob_before == ("scad\\w*", "fino al") and d.redaction.multipliers == ("cento", "mila")
    assert d.roles.agent_cues == ("Signora", "apro (?:una|un) ") and d.roles.open_ended == ("di", "l'")
    assert d.roles.answer_openers == ("sì", "no")


@pytest.mark.parametrize("replace, line, needle", [
    ({"multipliers": "  multipliers: [Cento]\n"}, 11, "redaction.multipliers.0: 'Cento' is not one lower-case word"),
    ({"multipliers": "  multipliers: [cento, cento]\n"}, 11, "'cento' is written twice"),
    ({"multipliers": "  compound_tens: [venti uno]\n"}, 11, "redaction.compound_tens.0: 'venti uno' is not one"),
    ({"not_dob_before": "  not_dob_before: ['scad[']\n"}, 10, "redaction.not_dob_before.0: 'scad[' is not a regular"),
    ({"not_dob_before": "  not_dob_before: [Bis]\n"}, 10, "'Bis' is not lower case"),
    ({"agent_cues": "  agent_cues: ['(mi dica']\n"}, 13, "roles.agent_cues.0: '(mi dica' is not a regular expression"),
    ({"agent_cues": "  agent_cues: ['']\n"}, 13, "roles.agent_cues.0"),
    ({"customer_cues": "  customer_cues: [mio, mio]\n"}, 14, "'mio' is written twice"),
    ({"open_ended": "  open_ended: [di, di a]\n"}, 15, "roles.open_ended.1: 'di a' is not one lower-case token"),
    ({"open_ended": "  open_ended: [Di]\n"}, 15, "roles.open_ended.0"),
    ({"answer_openers": "  answer_openers: [sì, no]\n"}, 16, "roles.answer_openers.1"),  # YAML reads no as false
    ({"extra": "  cues: [mi dica]\n"}, 17, "roles.cues: Extra inputs are not permitted"),
])
def test_a_malformed_section_is_one_line_with_file_and_line(replace, line, needle):
    with pytest.raises(QAError) as e:
        parse(_file(**replace), "it.yaml")
    msg = str(e.value)
    assert msg.startswith(f"it.yaml:{line}: ") and needle in msg and "\n" not in msg


def test_the_tables_are_what_the_files_say():
    """Number words and not-a-birth-date words: every language's together; the role cues: each
    language's in the order written, one alternation; the turn words: each language's."""
    assert W.MULTIPLIERS == redaction_words("multipliers") and "cento" in W.MULTIPLIERS and "hundred" in W.MULTIPLIERS
    assert W.COMPOUND_TENS == set(redaction_words("compound_tens")) and "twenty" in W.COMPOUND_TENS
    for lang in LANGS:
        r = language_data(lang).roles
        assert R.AGENT_CUES[lang] == r"\b(" + "|".join(r.agent_cues) + r")\b"
        assert R.CUSTOMER_CUES[lang] == r"\b(" + "|".join(r.customer_cues) + r")\b"
        assert T.OPEN_ENDED[lang].split() == list(r.open_ended) and T._ANSWER[lang] == frozenset(r.answer_openers)
        for w in language_data(lang).redaction.not_dob_before:
            assert W.NOT_DOB_BEFORE.pattern.count(w) >= 1
    assert list(R.AGENT_CUES) == list(LANGS)
    assert W.NOT_DOB_BEFORE.search("valido fino al ") and W.NOT_DOB_BEFORE.search("gültig bis ")
    assert not W.NOT_DOB_BEFORE.search("sono nato il ")


_PROBE = """import json
from qa.analysis.roles_text import cue_ratio
from qa.analysis.turns import boundary_features
from qa.redact import redact_text
from qa.redact.normalise import Normalised
print(json.dumps({
    "numbers": [Normalised("two billion", "en").text, Normalised("twenty one", "en").text],
    "not_dob": redact_text("data di nascita? la tessera rinnovata il 12.03.1980", "it")[0],
    "cues": [cue_ratio("mi serve una mano", "it"), cue_ratio("grüezi mitenand", "de")],
    "turns": [boundary_features("non funziona perché", "si blocca sempre", "it")["cut"],
              boundary_features("la richiamo domani", "volentieri mi chiami pure nel pomeriggio", "it")["answer"]],
}))
"""


def _run(script: str, folder: Path | None) -> list:
    """The JSON lines ``script`` prints in a fresh process with the language files of ``folder``
    (None: the shipped ones)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("QA_LANGDATA_DIR", None)
    if folder is not None:
        env["QA_LANGDATA_DIR"] = str(folder)
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


def _probe(folder: Path | None) -> dict:
    """What a fresh process does with the language files of ``folder`` (None: the shipped ones)."""
    [out] = _run(_PROBE, folder)
    return out


@pytest.fixture(scope="module")
def shipped() -> dict:
    """_probe(None), and under "masked" what _NAMES_PROBE prints with the shipped files: both probes
    in one fresh process (one start-up instead of two)."""
    probe, masked = _run(_PROBE + _NAMES_PROBE, None)
    return {**probe, "masked": masked}


def _edited(tmp_path: Path, lang: str, old: str, new: str) -> Path:
    """A copy of the language files with ``old`` replaced by ``new`` in ``lang``'s (still valid)."""
    folder = tmp_path / "lingue"
    shutil.copytree(data_dir(), folder)
    path = folder / f"{lang}.yaml"
    text = path.read_text(encoding="utf-8")
    assert re.search(re.escape(old), text), old
    text = text.replace(old, new, 1)
    parse(text, str(path))
    path.write_text(text, encoding="utf-8")
    return folder


def test_number_words_from_the_data_change_the_digits(shipped, tmp_path):
    """'billion' added to the English multipliers joins "two billion"; 'twenty' taken out of the
    tens said apart leaves "twenty one" two numbers."""
    assert shipped["numbers"] == ["2 1000000000", "21"]
    folder = _edited(tmp_path, "en", "multipliers: [hundred, thousand, million]",
                     "multipliers: [hundred, thousand, million, billion]")
    en = folder / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace("compound_tens: [twenty, ", "compound_tens: ["),
                  encoding="utf-8")
    assert _probe(folder)["numbers"] == ["2000000000", "20 1"]


def test_a_word_added_to_not_dob_before_keeps_a_date_in_clear(shipped, tmp_path):
    """'rinnovat...' (renewed) added: the date after it is a card's, not a date of birth."""
    assert shipped["not_dob"] == "data di nascita? la tessera rinnovata il [DATA_NASCITA]"
    folder = _edited(tmp_path, "it", "not_dob_before: [", "not_dob_before: ['rinnovat\\w*', ")
    assert _probe(folder)["not_dob"] == "data di nascita? la tessera rinnovata il 12.03.1980"


def test_cues_added_to_the_data_change_the_cue_ratio(shipped, tmp_path):
    """'mi serve' as an Italian customer cue, Swiss German 'grüezi' as an agent cue."""
    assert shipped["cues"] == [1.0, 1.0]
    folder = _edited(tmp_path, "it", "customer_cues: ['non mi', ", "customer_cues: ['mi serve', 'non mi', ")
    de = folder / "de.yaml"
    de.write_text(de.read_text(encoding="utf-8").replace("agent_cues: ['Frau', ", "agent_cues: ['grüezi', 'Frau', "),
                  encoding="utf-8")
    assert _probe(folder)["cues"] == [pytest.approx(1 / R.CUE_FACTOR), pytest.approx(R.CUE_FACTOR)]


def test_turn_words_added_to_the_data_change_the_boundary_features(shipped, tmp_path):
    """'perché' as a word no utterance ends on, 'volentieri' as an answer opener."""
    assert shipped["turns"] == [False, False]
    folder = _edited(tmp_path, "it", "open_ended: [di, ", "open_ended: [perché, di, ")
    it = folder / "it.yaml"
    it.write_text(it.read_text(encoding="utf-8").replace("answer_openers: [sì, ", "answer_openers: [volentieri, sì, "),
                  encoding="utf-8")
    assert _probe(folder)["turns"] == [True, True]


def test_a_malformed_here_words_list_is_one_line_with_file_and_line():
    text = _file() + "names:\n  here_words: [qua, 3]\n"  # names: is line 17
    assert parse(_file() + "names:\n  here_words: [qua, qui]\n", "x.yaml").names.here_words == ("qua", "qui")
    with pytest.raises(QAError) as e:
        parse(text, "it.yaml")
    assert str(e.value).startswith("it.yaml:18: names.here_words.1: Input should be a valid string")


_NAMES_PROBE = """import json
from qa.model import Segment, Transcript
from qa.pipeline import prepare
from qa.rubric import engine as E
t = Transcript(call_id="probe", language="it", segments=[
    Segment(speaker="agent", start=0.0, end=2.0, text="buongiorno sono Laura"),
    Segment(speaker="customer", start=2.0, end=4.0, text="salve ho un problema"),
    Segment(speaker="agent", start=4.0, end=6.0, text="eccomi qua <PER> allora vediamo"),
    Segment(speaker="agent", start=6.0, end=8.0, text="grazie ancora <PER> per la pazienza")])
prepared = prepare([t])
ctx = E._context(prepared[0], *E._tokenise(prepared)[0])
print(json.dumps([ctx._masked_address(j, int(ctx.tok_seg[j])) for j, tok in enumerate(ctx.doc) if tok.text == "<PER>"]))
"""


def test_a_here_word_added_to_the_data_makes_a_masked_name_an_address(shipped, tmp_path):
    """'ancora' (again) added to names.here_words: "grazie ancora <PER>" addresses the caller, as
    "eccomi qua <PER>" already does with the shipped 'qua'."""
    assert shipped["masked"] == [True, False]  # _NAMES_PROBE with the shipped files
    folder = _edited(tmp_path, "it", "here_words: [qua, qui]", "here_words: [qua, qui, ancora]")
    assert _run(_NAMES_PROBE, folder) == [[True, True]]
