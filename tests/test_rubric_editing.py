"""The rubric form editor's model layer (qa/rubric/editing.py) on the real rubriche/ files and
real dev-set calls: round trip, where edits land (extends), validation, scoring, diff summary."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
import yaml

from qa.errors import RubricError
from qa.model import Transcript
from qa.rubric import load_rubric, load_rubric_text, score_transcript, validate_rubric_text
from qa.rubric.editing import RubricDocument

ROOT = Path(__file__).resolve().parents[1]
RUBRICS = ROOT / "rubriche"
DEVSET = ROOT / "tests" / "data" / "devset"
ALL_FILES = sorted(p.name for p in RUBRICS.glob("*.yaml"))


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def _results(transcript: Transcript, rubric) -> dict[str, str]:
    return {c.id: c.result for c in score_transcript(transcript, rubric).criteria}


def test_the_real_rubric_folder_is_the_one_validation_reads():
    from qa.config import rubrics_dir

    assert rubrics_dir().resolve() == RUBRICS.resolve()
    assert {"comune.yaml", "assistenza.yaml", "acquisizione.yaml"} <= set(ALL_FILES)


@pytest.mark.parametrize("name", ALL_FILES)
def test_untouched_document_round_trips_byte_identical(name):
    text = (RUBRICS / name).read_text(encoding="utf-8")
    doc = RubricDocument.from_file(RUBRICS / name)
    assert doc.to_text() == text
    assert RubricDocument.from_text(text, name).to_text() == text
    assert doc.validate() == []
    assert doc.diff_summary() == []


@pytest.mark.parametrize("name", ALL_FILES)
def test_an_edit_undone_gives_the_file_back_byte_identical(name):
    """Edit and undo: the emitter itself reproduces the file (also where the first edit had to copy
    an inherited collection or add a criterion override to a file that had none)."""
    text = (RUBRICS / name).read_text(encoding="utf-8")
    doc = RubricDocument.from_file(RUBRICS / name)
    doc.add_phrase("riepilogo", "fr", "bref")
    doc.set_weight("congedo", 2)
    doc.set_critical("empatia", True)
    assert doc.to_text() != text
    doc.remove_phrase("riepilogo", "fr", "bref")
    doc.set_weight("congedo", 1)
    doc.set_critical("empatia", False)
    assert doc.to_text() == text
    assert doc.diff_summary() == []


@pytest.mark.parametrize("name", [n for n in ALL_FILES if n != "comune.yaml"])
def test_form_records_agree_with_the_project_loader(name):
    doc = RubricDocument.from_file(RUBRICS / name)
    rub = load_rubric(RUBRICS / name)
    assert doc.criterion_ids() == [c.id for c in rub.criteria]
    for c in rub.criteria:
        form = doc.criterion(c.id)
        assert form.title == c.title
        assert form.weight == c.weight
        assert form.critical == c.critical
        assert list(form.competence) == c.competences


def test_form_shows_where_each_value_lives_through_extends():
    doc = RubricDocument.from_file(RUBRICS / "acquisizione.yaml")
    assert doc.extends == ["comune.yaml"]
    saluto = doc.criterion("saluto")
    assert saluto.inherited
    assert saluto.defined_in == {"title": "comune.yaml", "weight": "comune.yaml", "critical": None,
                                 "applicability": "comune.yaml"}
    # not applicable on a recording that starts after the opening (CRITERIA.md, real recordings)
    assert saluto.applicability == {"not": {"condition": "inizio_tardivo"}}
    assert saluto.collections == ("saluto_apertura", "presentazione", "ripresa_chiamata", "saluto_ripreso",
                                  "apertura_neutra")
    own = doc.criterion("informazioni_prodotto")
    assert not own.inherited and own.defined_in["weight"] == "acquisizione.yaml"
    # applicability and collections reached through named conditions
    prot = doc.criterion("protezione_dati")
    assert prot.applicability == {"any": [{"condition": "richiesta_dati_personali"},
                                          {"condition": "esitazione_dati"}]}
    assert prot.collections[0] == "spiegazione_privacy"
    assert {"dati_personali", "richiesta", "verifica_identita", "esitazione_dati"} <= set(prot.collections)
    assert doc.criterion("empatia").collections == ("empatia", "non_empatia", "insoddisfazione")
    assert doc.collection("informazioni_prodotto").defined_in == "acquisizione.yaml"
    assert doc.collection("saluto_apertura").defined_in == "comune.yaml"
    assert doc.collection("verifica_identita").used_by == ("protezione_dati", "identificazione")
    base = RubricDocument.from_file(RUBRICS / "comune.yaml")
    assert base.extends == [] and base.criterion("saluto").defined_in["weight"] == "comune.yaml"
    assert set(base.inherited_by()) == {n for n in ALL_FILES if n != "comune.yaml"}


def test_phrase_lists_are_the_yaml_lists_per_language():
    text = (RUBRICS / "comune.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)["collections"]
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    lists = doc.phrase_lists("congedo")
    assert list(lists) == ["ringraziamento_reciproco", "saluto_congedo", "ringraziamento", "risposta_ringraziamento",
                          "ringraziamento_agente"]
    for name, per_lang in lists.items():
        assert per_lang == {lang: raw[name][lang] for lang in ("it", "de", "fr", "en")}
        assert all(type(p) is str for ps in per_lang.values() for p in ps)
    assert doc.phrases("saluto_apertura", "it") == raw["saluto_apertura"]["it"]
    assert doc.phrases("@saluto_apertura") == {lang: raw["saluto_apertura"][lang] for lang in ("it", "de", "fr", "en")}


def test_phrase_edit_in_comune_keeps_every_comment_and_changes_only_that_line():
    path = RUBRICS / "comune.yaml"
    before = path.read_text(encoding="utf-8")
    doc = RubricDocument.from_file(path)
    doc.remove_phrase("saluto_apertura", "it", "buongiorno")
    doc.add_phrase("saluto_apertura", "it", "buondì a lei")
    doc.replace_phrase("ringraziamento", "de", doc.phrases("ringraziamento", "de")[0], "tausend Dank")
    after = doc.to_text()
    removed, added = _changed_lines(before, after)
    assert len(removed) == 2 and len(added) == 2
    assert removed[0].lstrip().startswith("it: [\"buongiorno\", ") and added[0].endswith(', "buondì a lei"]')
    assert '"buongiorno"' not in added[0]
    assert added[1].lstrip().startswith('de: ["tausend Dank", ')
    comments = [ln for ln in before.splitlines() if ln.lstrip().startswith("#")]
    assert len(comments) >= 10
    out_lines = after.splitlines()
    assert all(c in out_lines for c in comments)
    assert after.count("\n\n") == before.count("\n\n")  # blank lines kept
    # key order kept: the top-level and criterion keys come out in the same order
    assert list(yaml.safe_load(after)) == list(yaml.safe_load(before))
    assert list(yaml.safe_load(after)["criteria"]) == list(yaml.safe_load(before)["criteria"])
    # the project's validation and loader take the edited text
    assert doc.validate() == []
    rub = load_rubric_text(after, "comune.yaml")
    sets = [s for s in rub.phrase_sets.values() if "buondì a lei" in s["it"]]
    # the list itself and every rule's union of lists that names it (inizio_tardivo's openings)
    assert sets and all("buongiorno" not in s["it"] and "salve" in s["it"] for s in sets)
    assert '-    it: ["buongiorno", ' in doc.text_diff()
    assert path.read_text(encoding="utf-8") == before  # nothing written until save()


def test_criterion_edit_in_a_child_is_a_partial_override_there():
    text = (RUBRICS / "assistenza.yaml").read_text(encoding="utf-8")
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    doc.set_weight("saluto", 2)
    doc.set_applicability("empatia", "always")
    doc.set_title("congedo", "Congedo e ringraziamento")
    out = doc.to_text()
    assert out.startswith(text)  # the file's own lines untouched; the overrides follow
    data = yaml.safe_load(out)
    assert data["criteria"] == {"saluto": {"weight": 2}, "empatia": {"when": "always"},
                                "congedo": {"title": "Congedo e ringraziamento"}}
    assert doc.criterion("saluto").defined_in["weight"] == "assistenza.yaml"
    assert doc.criterion("saluto").defined_in["title"] == "comune.yaml"
    rub = load_rubric_text(out, "assistenza.yaml")
    assert rub.criterion("saluto").weight == 2.0 and rub.criterion("saluto").title == "Saluto e presentazione"
    assert rub.criterion("congedo").title == "Congedo e ringraziamento"
    assert load_rubric(RUBRICS / "comune.yaml").criterion("saluto").weight == 1.0
    # back to the inherited value: the override goes away again
    doc.set_weight("saluto", 1)
    doc.set_applicability("empatia", {"condition": "cliente_insoddisfatto"})
    doc.set_title("congedo", "Congedo corretto")
    assert doc.to_text() == text


def test_phrase_edit_in_a_child_copies_the_whole_collection_there():
    base = yaml.safe_load((RUBRICS / "comune.yaml").read_text(encoding="utf-8"))["collections"]["saluto_apertura"]
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    doc.remove_phrase("saluto_apertura", "it", "buongiorno")
    copy = yaml.safe_load(doc.to_text())["collections"]["saluto_apertura"]
    assert copy["it"] == [p for p in base["it"] if p != "buongiorno"]
    assert {lang: copy[lang] for lang in ("de", "fr", "en")} == {lang: base[lang] for lang in ("de", "fr", "en")}
    assert doc.collection("saluto_apertura").defined_in == "assistenza.yaml"
    summary = doc.diff_summary(lang="en")
    assert any("copied from comune.yaml into assistenza.yaml" in line for line in summary)
    assert "@saluto_apertura [it]: removed «buongiorno» (used by: saluto)" in summary
    assert doc.validate() == []


def test_removing_the_greeting_a_dev_call_relies_on_fails_its_saluto():
    call = Transcript.load(DEVSET / "dev-it-005.json")
    assert call.segments[0].text.lower().startswith("buongiorno")
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    before = _results(call, load_rubric_text(doc.to_text(), "assistenza.yaml"))
    assert before["saluto"] == "pass"
    doc.remove_phrase("saluto_apertura", "it", "buongiorno")
    doc.remove_phrase("saluto_apertura", "it", "buon giorno")
    assert doc.validate() == []
    after = _results(call, load_rubric_text(doc.to_text(), "assistenza.yaml"))
    assert after["saluto"] == "fail"
    assert {c for c in before if before[c] != after[c]} == {"saluto"}
    assert _results(call, doc.rubric()) == after


def test_adding_a_phrase_makes_a_failing_call_pass():
    call = Transcript.load(DEVSET / "dev-en-007.json")  # "StreamBox support, Daniel speaking."
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    assert _results(call, doc.rubric())["saluto"] == "fail"
    doc.add_phrase("saluto_apertura", "en", "<AGENT> speaking")
    assert _results(call, doc.rubric())["saluto"] == "pass"


def test_weight_critical_and_applicability_edits_change_the_evaluation():
    call = Transcript.load(DEVSET / "dev-it-008.json")  # opens with a bare "pronto"
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    old = score_transcript(call, doc.rubric())
    assert {c.id: c.result for c in old.criteria}["saluto"] == "fail"
    doc.set_weight("saluto", 3)
    doc.set_critical("saluto", True)
    new = score_transcript(call, doc.rubric())
    assert new.score < old.score
    assert "compliance" in new.flags
    assert [c.result for c in new.criteria] == [c.result for c in old.criteria]
    # applicability: a criterion for cancellations made to apply always, and one made to apply
    # only when the customer's name is known (nobody names the customer in this call)
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    before = {c.id: c.result for c in old.criteria}
    assert (before["proposta_disdetta"], before["nome_cliente"], before["empatia"]) == ("na", "na", "fail")
    choices = {value if isinstance(value, str) else tuple(value.items())[0]: value
               for _, value in doc.applicability_choices("empatia", lang="en")}
    doc.set_applicability("proposta_disdetta", choices["always"])
    doc.set_applicability("empatia", choices[("name_known", True)])
    after = _results(call, doc.rubric())
    assert (after["proposta_disdetta"], after["empatia"]) == ("fail", "na")
    assert {c for c in before if before[c] != after[c]} == {"proposta_disdetta", "empatia"}


def test_invalid_edits_are_refused_with_a_clear_error_and_leave_the_document_alone():
    text = (RUBRICS / "assistenza.yaml").read_text(encoding="utf-8")
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    cases = [
        (lambda: doc.set_weight("saluto", 0), "weight must be a number > 0, got 0"),
        (lambda: doc.set_weight("saluto", -1.5), "weight must be a number > 0"),
        (lambda: doc.set_weight("saluto", True), "weight must be a number > 0"),
        (lambda: doc.set_weight("saluto", "2"), "weight must be a number > 0"),
        (lambda: doc.set_weight("salutto", 2), "unknown criterion 'salutto' (did you mean 'saluto'?)"),
        (lambda: doc.set_critical("saluto", "yes"), "'critical' must be true or false"),
        (lambda: doc.set_title("saluto", "  "), "title must be a non-empty text"),
        (lambda: doc.set_title("saluto", {"it": "Saluto", "en": "Greeting"}), "a title is one text"),
        (lambda: doc.set_applicability("empatia", {"condition": "cliente_arrabbiato"}), "unknown condition"),
        (lambda: doc.set_applicability("empatia", {"sometimes": True}), "unknown rule 'sometimes'"),
        (lambda: doc.set_applicability("empatia", "never"), "applicability is 'always' or a rule"),
        (lambda: doc.add_phrase("saluti_apertura", "it", "ciao"),
         "unknown collection '@saluti_apertura' (did you mean '@saluto_apertura'?)"),
        (lambda: doc.phrases("nessuna"), "unknown collection '@nessuna'"),
        (lambda: doc.add_phrase("saluto_apertura", "es", "hola"), "unknown language 'es' (languages: it, de, fr, en)"),
        (lambda: doc.phrases("saluto_apertura", "rm"), "unknown language 'rm'"),
        (lambda: doc.add_phrase("saluto_apertura", "it", "(molto gentile"), "unbalanced parentheses"),
        (lambda: doc.add_phrase("saluto_apertura", "it", "buongiorno <CLIENTE>"), "unknown slot <CLIENTE>"),
        (lambda: doc.add_phrase("saluto_apertura", "it", "@saluto_apertura"), "cannot include itself"),
        (lambda: doc.add_phrase("saluto_apertura", "it", "@saluti"), "unknown collection '@saluti'"),
        (lambda: doc.add_phrase("saluto_apertura", "it", "buongiorno"), "already in @saluto_apertura (it)"),
        (lambda: doc.add_phrase("saluto_apertura", "it", " "), "a phrase must be a non-empty text"),
        (lambda: doc.remove_phrase("saluto_apertura", "it", "ciao"), "'ciao' is not in @saluto_apertura (it)"),
        (lambda: doc.set_phrases("saluto_apertura", "fr", []), "a phrase list cannot be empty"),
        (lambda: doc.set_phrases("saluto_apertura", "fr", ["salut", "salut"]), "twice in the list"),
    ]
    for edit, expected in cases:
        with pytest.raises(RubricError) as err:
            edit()
        assert expected in str(err.value), (expected, str(err.value))
        assert str(err.value).startswith(f"{RUBRICS / 'assistenza.yaml'}: ")
        assert "\n" not in str(err.value)
    assert doc.to_text() == text
    assert doc.validate() == []


def test_validation_names_file_and_line_of_what_the_setters_cannot_see():
    # the negation list must hold single words: only the project's validation knows that
    doc = RubricDocument.from_file(RUBRICS / "comune.yaml")
    doc.add_phrase("negazione", "it", "non più")
    errors = doc.validate()
    assert len(errors) == 1
    line = next(i for i, ln in enumerate(doc.to_text().splitlines(), 1) if '"non più"' in ln)
    assert (Path(errors[0].source).name, errors[0].line) == ("comune.yaml", line)
    assert "'non più' must be a single word" in errors[0].message
    with pytest.raises(RubricError, match="not saved"):
        doc.save()
    with pytest.raises(RubricError, match="single word"):
        doc.rubric()
    # an invalid text typed in the raw editor: the form still opens it, validation says where
    bad = (RUBRICS / "assistenza.yaml").read_text(encoding="utf-8") + "criteria:\n  saluto:\n    weight: 0\n"
    doc = RubricDocument.from_text(bad, "assistenza.yaml")
    assert doc.criterion("saluto").weight == 0
    errors = doc.validate()
    assert [(e.source, e.line) for e in errors] == [("assistenza.yaml", bad.splitlines().index("    weight: 0") + 1)]
    assert "weight must be a number > 0" in errors[0].message
    doc.set_weight("saluto", 1)  # back to the inherited value: the broken override goes
    assert doc.validate() == []
    # a text that is not YAML: the same file:line as the project's validation
    for broken in ("rubric: x\nversion: 1\ncriteria: [\n", "rubric: x\n  bad: indent\nversion: 1\n",
                   "rubric: x\nrubric: y\n"):
        expected = validate_rubric_text(broken, "assistenza.yaml")[0]
        with pytest.raises(RubricError) as err:
            RubricDocument.from_text(broken, "assistenza.yaml")
        assert (err.value.source, err.value.line) == (expected.source, expected.line)
    with pytest.raises(RubricError, match="'extends': rubric 'nonesiste' not found"):
        RubricDocument.from_text("rubric: x\nversion: 1\nextends: nonesiste\n", "x.yaml")


def test_rubric_folder_elsewhere_uses_its_own_parent_and_save_writes_it(tmp_path):
    for name in ALL_FILES:
        shutil.copy(RUBRICS / name, tmp_path / name)
    base = RubricDocument.from_file(tmp_path / "comune.yaml")
    shipped = yaml.safe_load((RUBRICS / "comune.yaml").read_text(encoding="utf-8"))["version"]
    base.set_weight("saluto", 3)
    base.set_version("2099-12-07.1")
    assert base.diff_summary(lang="en")[:2] == [f"version: {shipped} → 2099-12-07.1",
                                                "saluto (Saluto e presentazione): weight 1 → 3"]
    base.save()
    assert (tmp_path / "comune.yaml").read_text(encoding="utf-8") == base.to_text()
    assert base.diff_summary() == []  # compared with what was saved
    assert len(base.inherited_by()) == len(ALL_FILES) - 1
    child = RubricDocument.from_file(tmp_path / "assistenza.yaml")
    assert child.criterion("saluto").weight == 3  # the parent beside it, not the bundled one
    assert child.validate() == []
    assert child.rubric().criterion("saluto").weight == 3.0
    assert load_rubric(RUBRICS / "assistenza.yaml").criterion("saluto").weight == 1.0
    child.add_phrase("saluto_apertura", "it", "ben arrivato")
    child.save(tmp_path / "assistenza2.yaml")
    assert "ben arrivato" in load_rubric(tmp_path / "assistenza2.yaml").phrase_sets.__repr__()
    with pytest.raises(RubricError, match="no file to save to"):
        RubricDocument.from_text(child.to_text(), "x.yaml").save()


def test_diff_summary_in_the_qa_leads_words():
    doc = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    doc.set_weight("saluto", 2)
    doc.set_critical("congedo", True)
    doc.set_applicability("empatia", "always")
    doc.add_phrase("empatia", "de", "das verstehe ich")
    assert doc.diff_summary(lang="it") == [
        "saluto (Saluto e presentazione): peso 1 → 2 (in assistenza.yaml, al posto del valore di comune.yaml)",
        "congedo (Congedo corretto): critico no → sì (in assistenza.yaml)",
        "empatia (Empatia): applicabilità se: cliente_insoddisfatto → sempre "
        "(in assistenza.yaml, al posto del valore di comune.yaml)",
        "@empatia: copiata da comune.yaml in assistenza.yaml; questa rubrica non seguirà più le modifiche di "
        "comune.yaml a questa lista",
        "@empatia [de]: aggiunte «das verstehe ich» (usata da: empatia)",
    ]
    en = doc.diff_summary(lang="en")
    assert en[1] == "congedo (Congedo corretto): critical no → yes (in assistenza.yaml)"
    # against another version of the document, e.g. what the raw YAML editor holds
    original = RubricDocument.from_file(RUBRICS / "assistenza.yaml")
    edited = RubricDocument.from_text(
        original.to_text().replace("title: Assistenza alla clientela", "title: Assistenza"), "assistenza.yaml")
    assert edited.diff_summary(original, lang="en") == [
        "other changes in the YAML (rules, feedback or settings): see the text"]
    assert doc.diff_summary(doc) == []


def test_four_space_indentation_and_windows_line_ends_are_kept():
    text = (RUBRICS / "acquisizione.yaml").read_text(encoding="utf-8")
    wide = "\n".join(" " * (2 * (len(ln) - len(ln.lstrip(" ")))) + ln.lstrip(" ") for ln in text.split("\n"))
    assert yaml.safe_load(wide) == yaml.safe_load(text)
    doc = RubricDocument.from_text(wide, "acquisizione.yaml")
    assert doc.to_text() == wide
    doc.add_phrase("informazioni_prodotto", "it", "canone mensile")
    doc.set_critical("informazioni_prodotto", True)
    removed, added = _changed_lines(wide, doc.to_text())
    assert len(removed) == 1 and added[1] == "        critical: true"
    assert doc.validate() == []
    crlf = text.replace("\n", "\r\n")  # a file saved on Windows keeps its line ends
    doc = RubricDocument.from_text(crlf, "acquisizione.yaml")
    assert doc.to_text() == crlf
    doc.set_weight("informazioni_prodotto", 2)
    assert doc.to_text() == crlf.replace("    weight: 1\r\n", "    weight: 2\r\n")
