"""Language data as data (rubriche/lingue/<lang>.yaml through qa.langdata) and the one text
normaliser (qa.text): the shipped files are valid and complete, a broken file is one line with
file:line, and the data reaches the stages that use it."""

from __future__ import annotations

import pytest

from qa.learning import fairness
from qa.analysis import metrics
from qa.constants import LANGS
from qa.errors import QAError
from qa.langdata import all_languages, data_dir, language_data, parse
from qa.model import Segment, Transcript
from qa.text import fold, fold_words, words

# the smallest valid `redaction` section (required in every file)
MIN_REDACTION = ("redaction:\n  digits: {uno: 1}\n  separators: {punto: \".\"}\n  email_at: [chiocciola]\n"
                 "  email_dot: [punto]\n  months: {gennaio: 1}\n  dob_context: [nato]\n")


def test_every_language_has_a_valid_file():
    data = all_languages()
    assert list(data) == list(LANGS)
    for lang, d in data.items():
        assert (data_dir() / f"{lang}.yaml").is_file()
        assert d.language == lang and d.greetings
        assert d.fairness.title_swaps and d.fairness.greeting_swaps and d.fairness.honorifics
    assert language_data("it") is language_data("it")  # read once


def test_stages_read_the_files():
    """metrics and fairness use exactly what the files say."""
    for lang, d in all_languages().items():
        assert metrics.GREETINGS[lang] == [fold(p, accents=True, sharp_s=False) for p in d.greetings]
        assert fairness.GREETING_SWAPS[lang] == list(d.fairness.greeting_swaps)
        assert fairness.TITLE_SWAPS[lang] == list(d.fairness.title_swaps)
        assert set(d.fairness.honorifics) <= fairness.HONORIFIC_WORDS


def test_a_greeting_of_the_file_is_found_in_a_call():
    """A greeting only the metrics list has (not the rubric's @saluto_apertura): 'pronto'."""
    assert "pronto" in language_data("it").greetings
    t = Transcript("c1", [Segment("agent", 0.4, 2.0, "Pronto, sono Luca."),
                          Segment("customer", 2.1, 3.0, "Buongiorno.")], language="it")
    m = metrics.compute_metrics(t, with_sentiment=False)
    assert m["greeting"]["phrase"] == "pronto" and m["time_to_greeting"] == pytest.approx(0.4)


@pytest.mark.parametrize("text, where, needle", [
    ("language: it\ngreetings: [ciao, 3]\n", "x.yaml:2", "greetings.1"),
    ("language: it\ngreetings: [ciao]\nfairness:\n  honorifics: [sig]\n  title_swap: []\n", "x.yaml:5",
     "fairness.title_swap"),
    ("language: xx\ngreetings: [ciao]\n" + MIN_REDACTION, "x.yaml:1", "'xx' is not one of it, de, fr, en"),
    ("language: it\ngreetings: [ciao]\n", "x.yaml:1", "redaction: Field required"),
    ("language: it\ngreetings: []\n", "x.yaml:2", "greetings"),
    ("language: it\ngreetings: [ciao]\nfairness:\n  title_swaps: [[a, b, c]]\n", "x.yaml:4", "title_swaps.0"),
    ("- a\n", "x.yaml:1", "a mapping"),
    ("language: it\ngreetings: [ciao\n", "x.yaml:3", "YAML syntax error"),
])
def test_a_broken_file_is_one_line_with_file_and_line(text, where, needle):
    with pytest.raises(QAError) as e:
        parse(text, "x.yaml")
    msg = str(e.value)
    assert msg.startswith(where + ": ") and needle in msg and "\n" not in msg


def test_a_file_for_another_language_is_refused(tmp_path, monkeypatch):
    (tmp_path / "de.yaml").write_text("language: it\ngreetings: [ciao]\n" + MIN_REDACTION, encoding="utf-8")
    monkeypatch.setenv("QA_LANGDATA_DIR", str(tmp_path))
    language_data.cache_clear()
    try:
        with pytest.raises(QAError, match="language 'it' in the file of 'de'"):
            language_data("de")
        with pytest.raises(QAError, match="cannot read the language data"):
            language_data("fr")
    finally:
        language_data.cache_clear()


def test_fold():
    assert fold("Grüß Gott") == "gruss gott"
    assert fold("Grüß Gott", sharp_s=False) == "gruß gott"
    assert fold("BUONDÌ, l’ufficio") == "buondi, l'ufficio"
    assert fold("BUONDÌ", accents=True) == "buondì"
    assert fold("Ça va") == "ca va" and fold("ﬁne") == "fine"
    assert words("Allô? C’est l'agence, n°42!") == ["Allô", "C’est", "l'agence", "n", "42"]
    assert fold_words("Guten Tag, Frau Müller!", accents=True) == "guten tag frau müller"


def test_fold_is_the_rubric_matchers_fold():
    """qa.rubric.nlp.fold (not yet switched to qa.text) folds exactly like qa.text.fold."""
    from qa.rubric.nlp import fold as rubric_fold

    for s in ["Grüß Gott", "l’ufficio", "BUONDÌ", "ﬁne", "Ça", "x`y", "Straße", "Éloïse"]:
        assert rubric_fold(s) == fold(s)


def test_every_language_has_the_name_words_the_engine_reads():
    """The rubric engine's name words (titles, vocatives, articles, fillers, answers, confirmations)
    are data in every language's file, and the engine's sets are exactly their union."""
    from qa.constants import LANGS
    from qa.langdata import NamesData, language_data, names_words
    from qa.rubric import callnames, context, names

    for lang in LANGS:
        data = language_data(lang).names
        for kind in NamesData.model_fields:
            # here_words ("eccomi qua <PER>") and speaking_with ("parlo con il signor <PER>") may be
            # none: only Italian calls show the habit
            assert getattr(data, kind) or kind in ("here_words", "speaking_with"), (lang, kind)
        assert names.NOT_NAMES[lang] == frozenset(data.fillers)
    assert context.HONORIFICS == names_words("honorifics") and "signora" in context.HONORIFICS
    assert "mrs" in context.HONORIFICS and "herr" in context.HONORIFICS and "madame" in context.HONORIFICS
    assert context.ARTICLES == names_words("articles") and {"il", "der", "le", "the"} <= context.ARTICLES
    assert names._CONFIRMS == names_words("confirmations")
    assert callnames.HERE_WORDS == names_words("here_words") == {"qua", "qui"}
    assert callnames.SPEAKING_WITH == names_words("speaking_with") and "parlo con" in callnames.SPEAKING_WITH
    assert "bonjour" not in callnames.INTERJECTIONS and {"ahm", "allo", "pronto"} <= callnames.INTERJECTIONS
    assert {"buona", "chere", "liebe", "dear"} <= names._NOT_SURNAMES


def test_a_name_section_with_a_mistake_is_one_line_with_its_line(tmp_path):
    from qa.errors import QAError
    from qa.langdata import parse

    text = "language: it\ngreetings: [buongiorno]\nnames:\n  honorifics: [signora]\n  titoli: [dott]\n"
    with pytest.raises(QAError) as e:
        parse(text, "it.yaml")
    assert "it.yaml:5" in str(e.value) and "titoli" in str(e.value) and "\n" not in str(e.value)
