"""`qa calibrate`, `qa fairness` and `qa train` end to end on the team's labelled development set."""

from __future__ import annotations

import csv
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.learning.calibration import human_agreement, read_labels
from qa.errors import EXIT_GATE, EXIT_USAGE

from .conftest import once_per_run

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "data" / "devset"
LABELS = DEVSET / "labels.csv"
CRITERIA = ["saluto", "nome_cliente", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione",
            "congedo", "protezione_dati", "identificazione", "empatia", "proposta_disdetta"]


def qa(*args, env=None, cwd=None):
    import os

    return subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=900)


@pytest.fixture(scope="module")
def calibration_json(tmp_path_factory):
    def calibrate(_folder):
        p = qa("calibrate", LABELS, "--transcripts", DEVSET, "--json")
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    return once_per_run(tmp_path_factory, "calibration-json", calibrate)


def test_calibrate_reports_every_criterion_on_the_labelled_set(calibration_json):
    rep = calibration_json
    assert rep["n_calls"] == len(read_labels(LABELS)) >= 60
    assert [c["criterion"] for c in rep["criteria"]] == sorted(CRITERIA)
    for c in rep["criteria"]:
        assert c["n"] == rep["n_calls"]
        assert 0.0 <= c["accuracy"] <= 1.0
        conf_total = sum(sum(row.values()) for row in c["confusion"].values())
        assert conf_total == c["n"]
        agree = sum(c["confusion"][k][k] for k in ("pass", "fail", "na"))
        assert agree / c["n"] == pytest.approx(c["accuracy"], abs=1e-3)
        for d in c["disagreements"]:
            assert d["human"] != d["tool"]
            if d["tool"] == "pass":
                assert d["evidence"], "a tool pass always shows its evidence"


@pytest.fixture(scope="module")
def gate_runs(calibration_json, tmp_path_factory):
    """`qa calibrate LABELS --transcripts DEVSET` (the text report) with --min-kappa just below and
    just above the macro kappa of the JSON run: (passed, refused), once per test run, shared by the
    xdist workers. --min-kappa changes only the exit code and stderr, so the text report is read
    from these runs rather than from a third identical one."""
    macro = calibration_json["macro_kappa"]

    def calibrate(_folder):
        ok = qa("calibrate", LABELS, "--transcripts", DEVSET, "--min-kappa", max(0.0, macro - 0.05))
        refused = qa("calibrate", LABELS, "--transcripts", DEVSET, "--min-kappa", min(1.0, macro + 0.01))
        return ok, refused

    return once_per_run(tmp_path_factory, "calibration-gate", calibrate)


def test_calibrate_text_output_lists_disagreements(calibration_json, gate_runs):
    p, refused = gate_runs
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split()[:7] == ["criterion", "n", "accuracy", "95", "%", "interval", "kappa"]
    assert any(line.startswith("macro") for line in lines)
    n_dis = sum(len(c["disagreements"]) for c in calibration_json["criteria"])
    if n_dis:
        assert any(line.startswith(f"disagreements ({n_dis})") for line in lines)
    assert refused.stdout == p.stdout  # the gate refuses on the same report


def test_calibration_session_reports_human_vs_human_kappa(tmp_path):
    """A second evaluator who disagrees on some calls: human kappa is shown beside the tool's."""
    rng = random.Random(3)
    rows = list(csv.reader(LABELS.read_text(encoding="utf-8").splitlines()))
    for row in rows[1:]:
        for i in range(1, len(row)):
            if rng.random() < 0.1:
                row[i] = {"pass": "fail", "fail": "pass", "na": "na"}[row[i]]
    second = tmp_path / "annotator2.csv"
    with second.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    p = qa("calibrate", LABELS, second, "--transcripts", DEVSET, "--json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    expected = human_agreement([read_labels(LABELS), read_labels(second)])
    for c in rep["criteria"]:
        assert c["human_kappa"] == pytest.approx(expected[c["criterion"]], abs=1e-4)


@pytest.mark.parametrize("content, needle", [
    ("call_id,saluto\nx,maybe\n", "expected pass, fail or na"),
    ("id,saluto\n", "call_id"),
])
def test_calibrate_bad_labels_one_line_error(tmp_path, content, needle):
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    p = qa("calibrate", bad, "--transcripts", DEVSET)
    assert p.returncode == 3 and needle in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_calibrate_without_matching_transcripts_fails_clearly(tmp_path):
    labels = tmp_path / "l.csv"
    labels.write_text("call_id,saluto\nnope-1,pass\n", encoding="utf-8")
    p = qa("calibrate", labels, "--transcripts", DEVSET)
    assert p.returncode == 3 and "none of the 1 labelled calls" in p.stderr


def test_publish_gate_exit_code(gate_runs):
    ok, refused = gate_runs  # --min-kappa just below, then just above the macro kappa
    assert ok.returncode == 0
    assert refused.returncode == EXIT_GATE and "below the required" in refused.stderr


def test_fairness_runs_on_the_labelled_set():
    p = qa("fairness", DEVSET, "--json")
    assert p.returncode in (0, EXIT_GATE), p.stderr
    rep = json.loads(p.stdout)
    assert rep["calls"] == 64 and rep["comparisons"] > 64 * 11
    assert (p.returncode == 0) == (rep["flips"] == [])
    for f in rep["flips"]:
        assert f["perturbation"] in ("names", "titles", "regional_greetings", "asr_style")


@pytest.fixture()
def models_copy(tmp_path):
    d = tmp_path / "modelli"
    shutil.copytree(ROOT / "modelli", d)
    return d


@pytest.fixture()
def trained_copy(trained_empatia, tmp_path):
    """A copy of modelli/ with empatia just trained by `qa train` (tests/conftest.py, shared with test_train)."""
    d = tmp_path / "modelli"
    shutil.copytree(trained_empatia, d)
    return d


def test_train_refuses_a_deliberately_worse_training_set(trained_copy, tmp_path):
    models_copy = trained_copy
    src = models_copy / "dati"
    rows = [line.split("\t") for line in (src / "empatia_it_de.tsv").read_text(encoding="utf-8").splitlines()]
    rows += [line.split("\t") for line in (src / "empatia_fr_en.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    header, body = rows[0], rows[1:]
    rng = random.Random(0)
    labels = [r[1] for r in body]
    rng.shuffle(labels)  # labels no longer say anything about the text
    bad = tmp_path / "bad.tsv"
    bad.write_text("\n".join(["\t".join(header)] + ["\t".join([r[0], lab, *r[2:]]) for r, lab in zip(body, labels)])
                   + "\n", encoding="utf-8")
    env = {"QA_MODELS_DIR": str(models_copy)}
    card = json.loads((models_copy / "empatia.card.json").read_text())
    assert card["holdout"]["accuracy"] > 0.7 and card["data_size"] > 300
    before = (models_copy / "empatia.joblib").read_bytes()
    worse = qa("train", "--criterion", "empatia", "--replace-data", bad, env=env)
    assert worse.returncode == EXIT_GATE
    assert "empatia: refused" in worse.stdout and "worse than the current model" in worse.stdout
    assert (models_copy / "empatia.joblib").read_bytes() == before


def test_train_gold_gate_refuses_a_model_that_would_lower_kappa(trained_copy):
    models_copy = trained_copy  # the current model is this recipe's: the candidate is no worse on the gold set
    env = {"QA_MODELS_DIR": str(models_copy)}
    before = (models_copy / "empatia.joblib").read_bytes()
    refused = qa("train", "--criterion", "empatia", "--gold", LABELS, DEVSET, "--min-kappa", "1.01", env=env)
    assert refused.returncode == EXIT_GATE and "not published: macro kappa on the gold set" in refused.stdout
    assert (models_copy / "empatia.joblib").read_bytes() == before
    ok = qa("train", "--criterion", "empatia", "--gold", LABELS, DEVSET, "--min-kappa", "0.3", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    card = json.loads((models_copy / "empatia.card.json").read_text())
    assert 0.3 <= card["gold_macro_kappa"] <= 1.0


@pytest.fixture(scope="module")
def reviewed_store(tmp_path_factory):
    """A real store holding 12 dev-set calls, ingested from their transcripts, with human reviews."""
    from qa.ingest import ingest
    from qa.store import open_store

    tmp = tmp_path_factory.mktemp("calstore")
    url = f"sqlite:///{tmp / 'cal.db'}"
    files = sorted(DEVSET.glob("dev-*-00[1-3].json"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_DATA_DIR", str(tmp))
        store = open_store(url)
        report = ingest([str(f) for f in files], store, workers=1, progress=False)
        assert report.stored == len(files)
        human = read_labels(LABELS)
        reviews = 0
        for f in files:
            cid = json.loads(f.read_text())["call_id"]
            ev = store.load_evaluation(cid)
            for c in ev.criteria:
                if c.id in human[cid]:  # a reviewer records the gold label for every criterion
                    store.override(cid, c.id, human[cid][c.id], "lead", "calibration review")
                    reviews += 1
        yield {"url": url, "dir": tmp, "store": store, "files": files, "reviews": reviews}
        store.close()


def test_calibrate_from_the_store_uses_human_reviews(reviewed_store):
    env = {"QA_DATA_DIR": str(reviewed_store["dir"]), "QA_DATABASE_URL": reviewed_store["url"]}
    p = qa("calibrate", "--store", "--json", env=env)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["n_calls"] == len(reviewed_store["files"])
    assert sum(c["n"] for c in rep["criteria"]) == reviewed_store["reviews"]
    for c in rep["criteria"]:
        assert c["n"] == len(reviewed_store["files"])
        assert 0.0 <= c["accuracy"] <= 1.0


def test_calibrate_store_without_reviews_says_so(tmp_path):
    env = {"QA_DATA_DIR": str(tmp_path), "QA_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    p = qa("calibrate", "--store", env=env)
    assert p.returncode == 3 and "no human reviews" in p.stderr


def test_uncertain_ranks_calls_from_files_and_store(reviewed_store):
    p = qa("uncertain", *reviewed_store["files"], "-n", "5", "--json")
    assert p.returncode == 0, p.stderr
    ranked = json.loads(p.stdout)
    assert 1 <= len(ranked) <= 5
    us = [r["uncertainty"] for r in ranked]
    assert us == sorted(us, reverse=True) and all(0.0 <= u <= 1.0 for u in us)
    env = {"QA_DATA_DIR": str(reviewed_store["dir"]), "QA_DATABASE_URL": reviewed_store["url"]}
    s = qa("uncertain", "--store", "-n", "3", env=env)
    assert s.returncode == 0 and len(s.stdout.strip().splitlines()) == 3
    bad = qa("uncertain")
    assert bad.returncode == EXIT_USAGE and "one of the two" in bad.stderr


def test_train_from_store_adds_reviewed_turns(reviewed_store, models_copy):
    env = {"QA_MODELS_DIR": str(models_copy), "QA_DATA_DIR": str(reviewed_store["dir"]),
           "QA_DATABASE_URL": reviewed_store["url"]}
    p = qa("train", "--criterion", "riepilogo", "--from-store", "--force", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    card = json.loads((models_copy / "riepilogo.card.json").read_text())
    assert card["store_examples"] >= 1
