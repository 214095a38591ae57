"""Training: the e5 feature set and its cascade on real turns, and `qa train`'s gates, which compare a
candidate with the CURRENT model (turn-level held-out split, call-level held-out labelled calls)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.learning import learn
from qa.errors import EXIT_GATE
from qa.learning.train import data_files, read_data

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "tests" / "data" / "heldout"


def qa(*args, env=None):
    return subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=1800)


@pytest.fixture()
def models_copy(tmp_path):
    d = tmp_path / "modelli"
    shutil.copytree(ROOT / "modelli", d)
    return d


def test_training_data_includes_the_spontaneous_turns_in_model_text_form():
    files = data_files("riepilogo")
    assert any(f.parent.name == "spont" for f in files), "modelli/dati/spont/riepilogo_*.tsv is read"
    ex = read_data("riepilogo", files)
    assert {e.lang for e in ex} >= {"it", "de", "fr", "en"}
    assert {e.label for e in ex} == {"yes", "no"}
    assert all(e.group for e in ex)
    # what a model condition sees: lower case, no punctuation
    assert all(e.text == e.text.lower() and "," not in e.text and "?" not in e.text for e in ex)


def test_e5_embeddings_put_paraphrases_closer_than_unrelated_turns():
    v = learn.embed(["allora le riassumo: domani passa il tecnico e le cambia il modem",
                     "ricapitolando, il tecnico viene domani a sostituire il router",
                     "mi può dire il suo codice fiscale per favore"])
    assert v.shape == (3, learn.E5_DIM)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)
    assert v[0] @ v[1] > v[0] @ v[2]
    again = learn.embed(["ricapitolando, il tecnico viene domani a sostituire il router"])
    assert np.array_equal(again[0], v[1])  # cached by text


def test_cascade_answers_with_the_e5_model_above_the_gate_and_the_screen_below():
    ex = read_data("empatia", data_files("empatia"))
    ex = [e for e in ex if e.lang == "it"][:240]
    texts, labels = [e.text for e in ex], [e.label for e in ex]
    model = learn.make_model("tfidf+e5", gate=0.3)
    model.fit(texts, labels)
    probe = ["mi dispiace molto per il disagio che ha avuto capisco la sua frustrazione",
             "il numero della pratica è quattro cinque sei", "guardi le mando subito una mail di conferma"]
    p = model.predict_proba(probe)
    screen = model.screen.predict_proba(probe)
    full = model.full.predict_proba(probe)
    pos = list(model.classes_).index("yes")
    for i in range(len(probe)):
        expected = full[i] if screen[i, pos] >= 0.3 else screen[i]
        assert np.allclose(p[i], expected)
    # the engine's path (fast TF-IDF screen over a shared batch) gives the same numbers
    assert np.allclose(learn.fast_predict_proba(model, learn.TextBatch(probe)), p, atol=1e-12)
    assert model.predict(probe).tolist() == [model.classes_[j] for j in p.argmax(axis=1)]


def test_grouped_cross_validation_keeps_groups_apart_and_reports_languages():
    ex = read_data("conferma_risoluzione", data_files("conferma_risoluzione"))
    cv = learn.cross_validate(ex, folds=3)
    assert cv["grouped"] and cv["n"] == len(ex)
    assert set(cv["per_language"]) >= {"it", "de", "fr", "en"}
    assert 0.6 < cv["accuracy"] <= 1.0


def test_turn_gate_refuses_a_candidate_worse_than_the_current_model(models_copy, tmp_path):
    env = {"QA_MODELS_DIR": str(models_copy)}
    first = qa("train", "--criterion", "conferma_risoluzione", "--features", "tfidf", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    card = json.loads((models_copy / "conferma_risoluzione.card.json").read_text())
    assert card["features"] == "tfidf" and card["cross_validation"]["grouped"]
    assert any(f.startswith("modelli/dati/spont/") for f in card["data_files"])
    before = (models_copy / "conferma_risoluzione.joblib").read_bytes()
    rows = [ln.split("\t") for ln in (models_copy / "dati" / "conferma_risoluzione_it_de.tsv")
            .read_text(encoding="utf-8").splitlines()]
    flipped = [rows[0]] + [[r[0], "no" if r[1] == "yes" else "yes", *r[2:]] for r in rows[1:]]
    bad = tmp_path / "flipped.tsv"
    bad.write_text("\n".join("\t".join(r) for r in flipped) + "\n", encoding="utf-8")
    worse = qa("train", "--criterion", "conferma_risoluzione", "--replace-data", bad, env=env)
    assert worse.returncode == EXIT_GATE
    line = [ln for ln in worse.stdout.splitlines() if ln.startswith("conferma_risoluzione: refused")]
    assert len(line) == 1 and "worse than the current model" in line[0]
    assert (models_copy / "conferma_risoluzione.joblib").read_bytes() == before


def test_gold_gate_compares_with_the_current_model_on_held_out_calls(trained_empatia, tmp_path):
    # the current model, retrained with this recipe (`qa train --criterion empatia`, its card's
    # features: tfidf; tests/conftest.py, shared with test_calibration_cli): the same candidate
    # again does not lower kappa
    models_copy = tmp_path / "modelli"
    shutil.copytree(trained_empatia, models_copy)
    assert json.loads((models_copy / "empatia.card.json").read_text())["features"] == "tfidf"
    env = {"QA_MODELS_DIR": str(models_copy)}
    gold = ["--gold", HELDOUT / "labels.csv", HELDOUT]
    same = qa("train", "--criterion", "empatia", *gold, env=env)
    assert same.returncode == 0, same.stdout + same.stderr
    card = json.loads((models_copy / "empatia.card.json").read_text())
    assert card["gold"][0]["macro_kappa"] == card["gold"][0]["current_macro_kappa"]
    before = (models_copy / "empatia.joblib").read_bytes()
    # a candidate whose labels say the opposite: let past the turn gate (--tolerance 1), the rubrics'
    # macro kappa on the held-out calls falls below the current model's and it is refused
    rows = [ln.split("\t") for f in data_files("empatia", models_copy / "dati")
            for ln in f.read_text(encoding="utf-8").splitlines()[1:]]
    bad = tmp_path / "flipped.tsv"
    bad.write_text("text\tlabel\tlang\tgroup\n" + "\n".join(
        "\t".join([r[0], "no" if r[1] == "yes" else "yes", *r[2:]]) for r in rows) + "\n", encoding="utf-8")
    worse = qa("train", "--criterion", "empatia", "--replace-data", bad, "--tolerance", "1", *gold, env=env)
    assert worse.returncode == EXIT_GATE, worse.stdout + worse.stderr
    line = [ln for ln in worse.stdout.splitlines() if ln.startswith("empatia: refused")]
    assert len(line) == 1 and "would fall from" in line[0] and "(current model)" in line[0]
    assert (models_copy / "empatia.joblib").read_bytes() == before
