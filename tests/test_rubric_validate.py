"""`qa rubric validate` and the rubric loader: every kind of broken rubric is refused with file,
line and reason; the shipped rubrics are valid and carry the 11 core criteria of CRITERIA.md."""

from __future__ import annotations

import textwrap

import pytest

from qa.cli import main as qa_main
from qa.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, RubricError
from qa.rubric import list_rubrics, load_rubric, load_rubric_text, validate_rubric, validate_rubric_text

CORE = ["saluto", "nome_cliente", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione",
        "congedo", "protezione_dati", "identificazione", "empatia", "proposta_disdetta"]

FEEDBACK = """\
    feedback:
      pass: {it: "3.1 — ok", de: "3.1 — ok", fr: "3.1 — ok", en: "3.1 — ok"}
      fail: {it: "3.1 — manca", de: "3.1 — fehlt", fr: "3.1 — manque", en: "3.1 — missing"}
"""

GOOD = """\
rubric: prova
version: 1.0
collections:
  ciao:
    it: ["buongiorno"]
    de: ["guten Tag"]
    fr: ["bonjour"]
    en: ["good morning"]
criteria:
  saluto_prova:
    title: Prova
    competence: ["2.1"]
    weight: 1
    rule:
      said: {by: agent, any_of: "@ciao"}
""" + FEEDBACK


def _errors(text: str) -> list[RubricError]:
    return validate_rubric_text(textwrap.dedent(text), "prova.yaml")


def _one(text: str, needle: str, line: int) -> RubricError:
    errors = _errors(text)
    hits = [e for e in errors if needle in e.message]
    assert hits, f"expected an error about {needle!r}, got {[str(e) for e in errors]}"
    assert hits[0].line == line, str(hits[0])
    assert hits[0].source == "prova.yaml"
    assert str(hits[0]).startswith(f"prova.yaml:{line}: ")
    return hits[0]


def test_good_rubric_is_valid():
    assert _errors(GOOD) == []
    rub = load_rubric_text(GOOD, "prova.yaml")
    assert rub.name == "prova" and rub.version == "1.0"
    assert [c.id for c in rub.criteria] == ["saluto_prova"]


def test_yaml_syntax_error_has_line():
    text = GOOD.replace("    weight: 1\n", "    weight: [1\n")
    errors = _errors(text)
    assert len(errors) == 1 and "YAML syntax error" in errors[0].message
    assert errors[0].line is not None and errors[0].line >= 13


def test_unknown_keys():
    _one(GOOD.replace("version: 1.0\n", "version: 1.0\nauthor: me\n"), "unknown key 'author'", 3)
    _one(GOOD.replace("    weight: 1\n", "    weight: 1\n    colour: red\n"), "unknown key 'colour'", 14)
    _one(GOOD.replace("{by: agent, any_of", "{by: agent, within_minutes: 2, any_of"), "unknown key 'within_minutes'", 15)
    _one(GOOD.replace("      said:", "      spoken:"), "unknown rule 'spoken'", 15)


def test_unknown_references():
    _one(GOOD.replace('any_of: "@ciao"', 'any_of: "@arrivederci"'), "unknown collection '@arrivederci'", 15)
    text = GOOD.replace("      said: {by: agent, any_of: \"@ciao\"}\n",
                        "      all:\n        - said: {by: agent, any_of: \"@ciao\"}\n        - criterion: congedo\n")
    _one(text, "unknown criterion 'congedo'", 17)
    text = GOOD.replace("      said: {by: agent, any_of: \"@ciao\"}\n",
                        "      all:\n        - said: {by: agent, any_of: \"@ciao\"}\n        - condition: arrabbiato\n")
    _one(text, "unknown condition 'arrabbiato'", 17)
    _one(GOOD.replace('any_of: "@ciao"}', 'any_of: "@ciao"}\n    when: {model: {name: nessun_modello}}'),
         "unknown model 'nessun_modello'", 16)


def test_invalid_patterns():
    _one(GOOD.replace('["buongiorno"]', '["[buongiorno|salve"]'), "invalid pattern", 5)
    _one(GOOD.replace('["bonjour"]', '["bonjour <NOM>"]'), "unknown slot <NOM>", 7)
    _one(GOOD.replace('["good morning"]', '["good morning ..."]'), "cannot start or end with '...'", 8)
    _one(GOOD.replace('["guten Tag"]', '["(guten Tag"]'), "unbalanced parentheses", 6)


def test_weight_must_be_positive():
    _one(GOOD.replace("weight: 1", "weight: 0"), "weight must be a number > 0", 13)
    _one(GOOD.replace("weight: 1", "weight: -2"), "weight must be a number > 0", 13)
    _one(GOOD.replace("weight: 1", "weight: heavy"), "weight must be a number > 0", 13)


def test_language_missing_its_phrases():
    _one(GOOD.replace('    fr: ["bonjour"]\n', ""), "phrases for language 'fr' are missing", 5)
    _one(GOOD.replace('en: "3.1 — missing"', 'xx: "3.1 — missing"'), "text for language 'en' is missing", 18)


def test_other_mistakes_are_reported_together():
    text = GOOD.replace("weight: 1", "weight: 0").replace('competence: ["2.1"]', 'competence: ["9.9"]')
    msgs = [e.message for e in _errors(text)]
    assert any("weight" in m for m in msgs) and any("competence" in m for m in msgs)
    _one(GOOD.replace("version: 1.0\n", ""), "'version' is missing", 1)


def test_broken_rubric_is_never_loaded(tmp_path):
    p = tmp_path / "rotta.yaml"
    p.write_text(GOOD.replace("weight: 1", "weight: 0"), encoding="utf-8")
    with pytest.raises(RubricError) as ei:
        load_rubric(p)
    assert ei.value.line == 13 and str(p) in str(ei.value)


def test_extends_and_partial_override(tmp_path):
    text = "rubric: mia\nversion: x1\nextends: comune\ncriteria:\n  saluto:\n    weight: 3\n"
    assert validate_rubric_text(text, "mia.yaml") == []
    rub = load_rubric_text(text, "mia.yaml")
    assert [c.id for c in rub.criteria][:11] == CORE
    assert rub.criterion("saluto").weight == 3.0
    assert rub.criterion("congedo").weight == 1.0
    bad = "rubric: mia\nversion: x1\nextends: non_esiste\n"
    errs = validate_rubric_text(bad, "mia.yaml")
    assert errs and errs[0].line == 3 and "not found" in errs[0].message


def test_shipped_rubrics_are_valid_and_complete():
    names = list_rubrics()
    assert names == ["acquisizione", "assistenza", "fidelizzazione", "riacquisizione"]
    for name in names:
        assert validate_rubric(name) == [], name
        rub = load_rubric(name)
        ids = [c.id for c in rub.criteria]
        assert ids[:11] == CORE, name
        assert rub.version and rub.call_type == name
        assert load_rubric(name) is rub  # cached per process
        for c in rub.criteria:
            assert c.title and c.weight > 0 and c.competence
            for lang in ("it", "de", "fr", "en"):
                code = c.feedback["fail"][lang].split(" — ")[0]
                assert code in c.competences, (name, c.id, lang)  # names the competence, e.g. "2.1 — …"
    assert load_rubric("assistenza").criterion("protezione_dati").critical
    assert load_rubric("assistenza").criterion("identificazione").critical


def test_cli_validate(tmp_path, capsys):
    good = tmp_path / "buona.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / "rotta.yaml"
    bad.write_text(GOOD.replace('any_of: "@ciao"', 'any_of: "@nessuna"'), encoding="utf-8")
    assert qa_main(["rubric", "validate", str(good)]) == EXIT_OK
    assert "ok" in capsys.readouterr().out
    assert qa_main(["rubric", "validate", str(good), str(bad)]) == EXIT_PARTIAL
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{bad}:15: unknown collection '@nessuna'"]
    assert qa_main(["rubric", "validate", str(bad)]) == EXIT_FAILED
