"""The applicability call model (qa/learning/callmodel.py, `applicabilita_identificazione`) and its
use as a second opinion in `qa uncertain` (qa/learning/active.py): it learns from every labelled
scripted call except the held-out set and LUNA, reads a whole call with who said what, and where
it and the rubric disagree about whether `identificazione` applies the call is put first for
review. Real model file, real labelled calls, real engine."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from qa.learning.callmodel import CALL_MODELS, KEPT_OUT, call_text, labelled_folders, training_rows

from .pg import store_url  # noqa: F401  (fixture: SQLite and PostgreSQL)

ROOT = Path(__file__).resolve().parents[1]
MODEL = "applicabilita_identificazione"
TSV = ROOT / "modelli" / "dati" / f"{MODEL}.tsv"


def test_call_text_keeps_who_said_what_and_the_call_type():
    text = call_text("assistenza", [("agent", "Mi conferma la sua data di nascita?"), ("customer", "Sì, il 3 marzo."),
                                    ("unknown", "Grazie")])
    assert text.split()[:4] == ["tipo_assistenza", "a_mi", "a_conferma", "a_la"]
    assert "c_sì" in text.split() and "c_grazie" in text.split() and "?" not in text


def test_the_training_data_never_holds_a_held_out_or_luna_call_nor_a_second_annotators_labels():
    folders = [str(f.relative_to(ROOT / "tests" / "data")) for f in labelled_folders()]
    assert "devset" in folders and "rules_fresh/batch22" in folders
    assert not [f for f in folders if f.startswith(("heldout", "luna_dev")) or "annotator" in f]
    assert not set(folders) & set(KEPT_OUT)  # the untouched checks (bench/untouched.py) are measured only
    with TSV.open(encoding="utf-8", newline="") as fh:
        groups = [r["group"] for r in csv.DictReader(fh, delimiter="\t")]
    assert not [g for g in groups if g.startswith(("heldout", "LUNA"))]


def test_the_shipped_training_file_is_what_the_labelled_sets_give_now():
    """A labelled batch added or relabelled without `python -m qa.learning.callmodel` fails here."""
    with TSV.open(encoding="utf-8", newline="") as fh:
        shipped = list(csv.DictReader(fh, delimiter="\t"))
    assert shipped == training_rows(MODEL)


def test_the_shipped_model_has_a_card_and_learnt_its_criterion():
    card = json.loads((ROOT / "modelli" / f"{MODEL}.card.json").read_text(encoding="utf-8"))
    assert CALL_MODELS[MODEL] == "identificazione"
    assert card["labels"] == ["no", "yes"] and card["holdout"]["n"] > 100
    assert card["holdout"]["accuracy"] > 0.75  # well above always-"yes" (the majority) on its held-out split
    assert card["data_size"] + card["holdout_size"] == sum(1 for _ in TSV.open(encoding="utf-8")) - 1


def _p(call_type, turns):
    from qa.learning.learn import predict_proba

    return predict_proba(MODEL, [call_text(call_type, turns)])[0]["yes"]


def test_the_model_tells_a_general_question_from_an_account_being_changed():
    info = _p("assistenza", [("agent", "buongiorno comune di lugano ufficio tecnico"),
                             ("customer", "buongiorno volevo sapere gli orari dell'ecocentro"),
                             ("agent", "è aperto il mercoledì pomeriggio e il sabato mattina"),
                             ("customer", "grazie mille"), ("agent", "prego arrivederci")])
    account = _p("assistenza", [("agent", "buongiorno servizio clienti"),
                                ("customer", "buongiorno vorrei cambiare l'iban per l'addebito della mia bolletta"),
                                ("agent", "certo mi dà il numero cliente e la data di nascita"),
                                ("customer", "<NUM> e il tre marzo"),
                                ("agent", "grazie ho aggiornato l'iban sul suo contratto"), ("customer", "grazie")])
    assert info < 0.5 < account


def test_qa_uncertain_puts_a_call_first_where_the_model_and_the_rubric_disagree_on_applicability():
    """fresh22-it-002 (tuned on): an area outage, nothing of the caller's own looked at, labelled `na`;
    the rubric reads "apriamo una segnalazione per la sua linea" as the caller's line and fails it."""
    from qa.learning.active import available_models, call_uncertainty
    from qa.model import Transcript
    from qa.pipeline import score_transcript

    t = Transcript.load(ROOT / "tests" / "data" / "rules_fresh" / "batch22" / "fresh22-it-002.json")
    ev = score_transcript(t)
    assert ev.result("identificazione").result == "fail"
    assert MODEL in available_models()
    u = call_uncertainty(t, ev, available_models())
    hit = [r for r in u.reasons if r.startswith("identificazione: rubric fail, applicability model p(applies)=")]
    assert hit and u.uncertainty >= 0.5 + abs(float(hit[0].rsplit("=", 1)[1]) - 0.5) - 0.01  # p shown rounded


def test_no_applicability_reason_where_the_model_and_the_rubric_agree():
    from qa.learning.active import available_models, call_uncertainty
    from qa.model import Transcript
    from qa.pipeline import score_transcript

    t = Transcript.load(ROOT / "tests" / "data" / "devset" / sorted(
        p.name for p in (ROOT / "tests" / "data" / "devset").glob("dev-it-*.json"))[0])
    ev = score_transcript(t)
    u = call_uncertainty(t, ev, available_models())
    from qa.learning.active import applicability_probability

    p = applicability_probability(t, ev, MODEL)
    agree = (p >= 0.5) == (ev.result("identificazione").result != "na")
    assert agree == (not [r for r in u.reasons if "applicability model" in r])


@pytest.mark.parametrize("name", sorted(CALL_MODELS))
def test_every_call_model_names_a_criterion_of_the_rubrics(name):
    from qa.rubric.loader import load_rubric

    assert load_rubric("assistenza").criterion(CALL_MODELS[name]) is not None


def test_scoring_records_the_second_opinion_and_flags_the_call_for_review():
    """The production path (`qa score`, ingest) keeps the doubt with the evaluation: flag `review` and
    `second_opinion` (docs/FORMATS.md); a call where model and rubric agree carries neither."""
    from qa.model import Transcript
    from qa.pipeline import score_transcript

    doubted = score_transcript(Transcript.load(ROOT / "tests" / "data" / "rules_fresh" / "batch22" / "fresh22-it-002.json"))
    assert "review" in doubted.flags
    (doubt,) = doubted.to_dict()["second_opinion"]
    assert doubt["criterion"] == "identificazione" and doubt["result"] == "fail" and doubt["p_applies"] < 0.5
    plain = score_transcript(Transcript.load(ROOT / "tests" / "data" / "rules_fresh" / "batch22" / "fresh22-it-001.json"))
    from qa.learning.active import second_opinion

    assert ("review" in plain.flags) == bool(second_opinion(Transcript.load(
        ROOT / "tests" / "data" / "rules_fresh" / "batch22" / "fresh22-it-001.json"), plain))
    assert ("second_opinion" in plain.to_dict()) == ("review" in plain.flags)


def test_the_review_queue_lists_the_doubted_calls_on_sqlite_and_postgresql(store_url):  # noqa: F811
    """Ingested through the real pipeline: the call the model doubts is in the review queue with its
    doubted criterion; a call without a doubt is not."""
    from qa.ingest import ingest
    from qa.store import open_store
    from qa.store.doubts import review_queue

    batch = ROOT / "tests" / "data" / "rules_fresh" / "batch22"
    store = open_store(store_url)
    try:
        report = ingest([str(batch / "fresh22-it-002.json"), str(batch / "fresh22-it-001.json")], store,
                        workers=1, progress=False)
        assert report.stored == 2 and report.failed == 0, report.failures
        flagged = {cid for cid in ("fresh22-it-002", "fresh22-it-001")
                   if "review" in store.load_evaluation(cid).flags}
        rows, total = review_queue(store)
        assert "fresh22-it-002" in flagged
        assert total == len(flagged) and {r["call_id"] for r in rows} == flagged
        assert next(r for r in rows if r["call_id"] == "fresh22-it-002")["doubted"] == ["identificazione"]
    finally:
        store.close()
