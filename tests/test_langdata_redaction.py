"""The redactor's words as language data (issue 15): section ``redaction`` of
rubriche/lingue/<lang>.yaml, validated by qa.langdata (RedactionData) and turned into the tables of
qa.redact.words. The tables are what the files say; a malformed section is one line with file:line;
a word added to a file changes what the redactor masks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.constants import LANGS
from qa.errors import QAError
from qa.langdata import data_dir, language_data, parse, redaction_union, redaction_words
from qa.redact import words as W

ROOT = Path(__file__).resolve().parents[1]

# A valid Italian file but its redaction section, written line by line (the line numbers matter).
HEAD = "language: it\ngreetings: [ciao]\nredaction:\n"  # redaction: is line 3
BODY = {
    "digits": "  digits: {uno: 1, due: 2}\n",
    "weak_digits": "  weak_digits: [uno]\n",
    "separators": "  separators: {punto: \".\"}\n",
    "email_at": "  email_at: [chiocciola]\n",
    "email_dot": "  email_dot: [punto]\n",
    "months": "  months: {gennaio: 1}\n",
    "dob_context": "  dob_context: ['nat[oaie]']\n",
}


def _file(**replace: str) -> str:
    """HEAD and BODY with some lines replaced (or dropped, with an empty string)."""
    return HEAD + "".join(replace.get(k, v) for k, v in BODY.items()) + replace.get("extra", "")


def test_the_minimal_section_is_valid():
    assert parse(_file(), "x.yaml").redaction.digits == {"uno": 1, "due": 2}


def test_every_language_has_the_words_the_redactor_needs():
    for lang in LANGS:
        r = language_data(lang).redaction
        assert r.digits and r.separators and r.email_at and r.email_dot and r.months and r.dob_context, lang
        assert set(r.digits.values()) == set(range(10)), lang  # every digit can be said
        assert set(r.months.values()) == set(range(1, 13)), lang  # every month can be said
        assert "iban" in r.iban_context


def test_the_tables_are_what_the_files_say():
    """Per-language tables are the files' own; the others are every language's words together,
    Italian first and each file's words in the order written."""
    for lang in LANGS:
        r = language_data(lang).redaction
        assert W.DIGIT_WORDS[lang] == {w: str(d) for w, d in r.digits.items()}
        assert list(W.DIGIT_WORDS[lang]) == list(r.digits)
        assert W.MONTHS[lang] == r.months and W.DOB_CONTEXT[lang] == list(r.dob_context)
        assert set(r.weak_digits) <= W._WEAK and set(r.joiners) <= W.JOINER_WORDS
        assert set(r.plus) <= W.PLUS_WORDS and set(r.not_a_mailbox) <= W._NOT_A_MAILBOX
        assert r.separators.items() <= W.SEPARATOR_WORDS.items() and r.repeats.items() <= W.DOUBLE_WORDS.items()
        assert r.day_ordinals.items() <= W.DAY_WORDS.items() and set(r.months) <= W._MONTH_NAMES
    assert list(W.DIGIT_WORDS) == list(LANGS) == list(W.MONTHS) == list(W.DOB_CONTEXT)
    at = [w for lang in LANGS for w in language_data(lang).redaction.email_at]
    assert W.EMAIL_AT_WORDS == tuple(dict.fromkeys(at)) and W.EMAIL_AT_WORDS[0] == "chiocciola"
    assert W.EMAIL_DOT_WORDS == ("punto", "punkt", "point", "dot")
    assert W.IBAN_CONTEXT.search("il mio conto") and W.IBAN_CONTEXT.search("my account") \
        and not W.IBAN_CONTEXT.search("contorno")
    assert W._DOB_RE.search("data di nascita") and W._DOB_RE.search("d.o.b.")
    assert redaction_words("email_dot") == W.EMAIL_DOT_WORDS and redaction_union("day_ordinals") == W.DAY_WORDS


@pytest.mark.parametrize("replace, line, needle", [
    ({"email_at": "  email_at: [Chiocciola]\n"}, 7, "redaction.email_at.0: 'Chiocciola' is not one lower-case"),
    ({"separators": "  separators: {punto e virgola: \" \"}\n"}, 6, "'punto e virgola' is not one lower-case word"),
    ({"email_dot": "  email_dot: [punto, 'dot|.']\n"}, 8, "email_dot.1"),
    ({"digits": "  digits: {uno: 1, dodici: 12}\n"}, 4, "redaction.digits.dodici"),
    ({"digits": "  digits: {uno: '1'}\n", "weak_digits": ""}, 4, "redaction.digits.uno"),
    ({"weak_digits": "  weak_digits: [uno, tre]\n"}, 5, "'tre' not in digits"),
    ({"separators": "  separators: {punto: \":\"}\n"}, 6, "redaction.separators.punto"),
    ({"months": "  months: {gennaio: 1, gennaio: 2}\n"}, 9, "'gennaio' is written twice"),
    ({"email_at": "  email_at: [chiocciola, chiocciola]\n"}, 7, "'chiocciola' is written twice"),
    ({"dob_context": "  dob_context: ['nat[oaie']\n"}, 10, "is not a regular expression"),
    ({"months": ""}, 3, "redaction.months: Field required"),
    ({"email_dot": "  email_dot: []\n"}, 8, "redaction.email_dot"),
    ({"extra": "  mesi: {gennaio: 1}\n"}, 11, "redaction.mesi: Extra inputs are not permitted"),
    ({"extra": "  repeats: {doppio: 4}\n"}, 11, "redaction.repeats.doppio"),
])
def test_a_malformed_redaction_section_is_one_line_with_file_and_line(replace, line, needle):
    with pytest.raises(QAError) as e:
        parse(_file(**replace), "it.yaml")
    msg = str(e.value)
    assert msg.startswith(f"it.yaml:{line}: ") and needle in msg and "\n" not in msg


def _copy_of_the_language_files(tmp_path: Path) -> Path:
    folder = tmp_path / "lingue"
    shutil.copytree(data_dir(), folder)
    return folder


def test_two_files_that_disagree_on_a_word_are_refused(tmp_path, monkeypatch):
    folder = _copy_of_the_language_files(tmp_path)
    en = folder / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace('point: "."', 'point: "-"'), encoding="utf-8")
    monkeypatch.setenv("QA_LANGDATA_DIR", str(folder))
    language_data.cache_clear()
    try:
        with pytest.raises(QAError) as e:
            redaction_union("separators")
        line = next(i for i, t in enumerate(en.read_text(encoding="utf-8").splitlines(), 1) if 'point: "-"' in t)
        assert str(e.value).startswith(f"{en}:{line}: redaction.separators.point: '-' here but '.' in fr.yaml")
    finally:
        language_data.cache_clear()


_REDACT = ("import json, sys\nfrom qa.redact import redact_text\n"
           "print(json.dumps([redact_text(t, 'de')[0] for t in sys.argv[1:]]))\n")
_SAID = ["meine adresse ist hans punkt muster ät beispiel punkt ch",  # Swiss German "ät" for @
         "ich bin am 7. mai 1981 gebore"]  # Swiss German "gebore": born


def _redact_with(folder: Path | None) -> list[str]:
    """What a fresh process (the tables are built on import) masks in _SAID, with the language
    files of ``folder`` (None: the shipped ones)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("QA_LANGDATA_DIR", None)
    if folder is not None:
        env["QA_LANGDATA_DIR"] = str(folder)
    out = subprocess.run([sys.executable, "-c", _REDACT, *_SAID], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def test_a_word_added_to_the_data_changes_redaction(tmp_path):
    """Two Swiss German words added to de.yaml (an e-mail 'at' and a birth word): the address
    and the date of birth they introduce are masked, which the shipped files do not do."""
    assert _redact_with(None) == _SAID  # the shipped words do not know them
    folder = _copy_of_the_language_files(tmp_path)
    de = folder / "de.yaml"
    text = de.read_text(encoding="utf-8")
    text = text.replace("email_at: [klammeraffe, at-zeichen]", "email_at: [klammeraffe, at-zeichen, ät]")
    text = text.replace("    - geboren\n", "    - geboren\n    - gebore\n")
    de.write_text(text, encoding="utf-8")
    assert parse(text, str(de)).redaction.email_at[-1] == "ät"  # the copy stays valid
    assert _redact_with(folder) == ["meine adresse ist [EMAIL]", "ich bin am [DATA_NASCITA] gebore"]
