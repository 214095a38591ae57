"""The batched scoring path (``score_transcripts``, ``qa score`` with many files) gives exactly the
results of the one-call-at-a-time path: model conditions asked once per batch over all calls
(``qa.learning.learn.TextBatch`` / ``fast_predict_proba``) give the numbers each call would have asked for
itself, and call types inferred for a batch are those inferred one call at a time."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from qa.model import Transcript

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "data" / "devset"
MODELS = ["comprensione", "conferma_risoluzione", "empatia", "prossimi_passi", "riepilogo", "tipo_chiamata",
          "ruoli", "sentimento"]


def _dev(n: int | None = None) -> list[Transcript]:
    files = sorted(DEVSET.glob("dev-*.json"))
    return [Transcript.load(f) for f in files[:n]]


def _texts() -> list[str]:
    texts = [s.text for t in _dev(24) for s in t.segments]
    return texts + ["", "   ", "a", "Ünïcödé  ÇA  va\tbien, d'accord?", "x\u00a0y", "E-Mail: mario@example.com"]


@pytest.mark.parametrize("name", MODELS)
def test_shared_batch_gives_sklearns_numbers(name):
    from qa.learning.fastpredict import TextBatch, fast_predict_proba
    from qa.learning.learn import load_model

    texts = _texts()
    model = load_model(name)
    want = model.predict_proba(texts)
    batch = TextBatch(texts)
    got = fast_predict_proba(model, batch)
    assert got.shape == want.shape
    assert np.allclose(got, want, atol=1e-12)
    # a subset of the rows, in any order, gives those rows' numbers, bit for bit
    rows = [7, 3, 3, len(texts) - 1, 0]
    assert np.array_equal(fast_predict_proba(model, batch, rows), got[rows])
    # and so does a batch of its own (one call's turns)
    assert np.array_equal(fast_predict_proba(model, texts[10:30]), got[10:30])
    # and a batch that grows (texts added after a first question: only they are analysed then)
    grown = TextBatch(texts[:10])
    assert np.array_equal(fast_predict_proba(model, grown, [2, 5]), got[[2, 5]])
    grown.extend(texts[10:])
    assert np.array_equal(fast_predict_proba(model, grown), got)


@pytest.mark.parametrize("name", ["comprensione", "tipo_chiamata"])
def test_tfidf_bit_for_bit_as_the_sparse_matrix_chain(name):
    """``_tfidf_counts`` computes each value directly; the numbers (and each row's column order,
    which the dot product with the coefficients sums in) are those of the sparse-matrix chain
    x @ diag(idf), row norms, diag(1 / norms) @ x, exactly."""
    import scipy.sparse as sp

    from qa.learning.fastpredict import TextBatch, _tfidf_counts
    from qa.learning.learn import load_model

    texts = _texts()
    for vec in [t for _, t in load_model(name).named_steps["features"].transformer_list]:
        x = TextBatch(texts).counts(vec, list(range(len(texts))))
        y = x.astype(np.float64)
        np.log(y.data, y.data)
        y.data += 1.0
        y = y @ sp.diags(vec._tfidf.idf_).tocsr()
        norms = np.sqrt(np.asarray(y.multiply(y).sum(axis=1)).ravel())
        norms[norms == 0.0] = 1.0
        want = (sp.diags(1.0 / norms) @ y).tocsr()
        got = _tfidf_counts(vec, x)
        assert np.array_equal(got.indptr, want.indptr)
        assert np.array_equal(got.indices, want.indices)
        assert np.array_equal(got.data, want.data)
        assert x.shape[0] > 0 and (np.diff(x.indptr) == 0).any()  # empty texts included


def test_word_ngrams_per_piece_as_sklearns_analyser():
    """The word analyser's tokens are remembered per whitespace-separated piece; the counts of every
    known 1-2-gram are those of sklearn's own analyser over the whole text (case, punctuation,
    apostrophes, underscores, digits, odd whitespace, Greek sigma, Turkish I)."""
    import random

    from qa.learning.fastpredict import _shared, fast_predict_proba
    from qa.learning.learn import load_model

    model = load_model("tipo_chiamata")
    vec = model.named_steps["features"].transformer_list[0][1]
    assert vec.analyzer == "word"
    fast_predict_proba(model, ["x"])  # the joint vocabulary
    sa = _shared(vec)
    rng = random.Random(0)
    chars = "aàbcdeéfgiìoòuùß ΣσςİIıKkÅå-'’_019 \t\n\u00a0\u2003.,!?"
    known = sorted(sa.vocab)[:2000]
    texts = _texts() + ["".join(rng.choice(chars) for _ in range(rng.randint(0, 50))) for _ in range(3000)]
    texts += [" ".join(rng.choice(known) for _ in range(rng.randint(1, 10))) for _ in range(1000)]
    r, g, c = sa.count(texts)
    want = {}
    for row, t in enumerate(texts):
        for term in sa.analyse(t):  # sklearn's analyser
            if term in sa.vocab:
                key = (row, sa.vocab[term])
                want[key] = want.get(key, 0) + 1
    got = {(int(a), int(b)): int(n) for a, b, n in zip(r, g, c)}
    assert got == want and len(got) > 5000


def test_batch_of_many_models_same_as_each_alone():
    """Several models over one TextBatch (each text analysed once for all of them) give what each
    model gives on its own, whichever model comes first."""
    from qa.learning.fastpredict import TextBatch, fast_predict_proba
    from qa.learning.learn import load_model

    texts = _texts()
    alone = {n: fast_predict_proba(load_model(n), texts) for n in MODELS}
    batch = TextBatch(texts)
    for n in reversed(MODELS):
        assert np.array_equal(fast_predict_proba(load_model(n), batch), alone[n]), n


def test_batched_scoring_equals_lazy_per_call_scoring():
    """Scoring with the model answers asked for the whole batch at once (in rounds, only what the
    rules reach) gives the evaluations that the rules get when each model condition asks for
    itself, lazily, call by call."""
    from qa import pipeline
    from qa.learning.active import add_second_opinion
    from qa.rubric import engine as E

    calls = _dev()
    batched = [e.to_dict() for e in pipeline.score_transcripts(calls, batch_size=16)]
    prepared = pipeline.prepare(calls)
    lazy = []
    for call, d in zip(prepared, E._tokenise(prepared)):
        ctx = E._context(call, *d)  # not deferred: CallContext.model_probs asks itself
        lazy.append(add_second_opinion(call.transcript, E._evaluate(ctx, call.facts)).to_dict())  # as the score stage
    assert batched == lazy
    assert any(c.get("confidence") is not None for e in batched for c in e["criteria"])  # models took part


def test_one_call_or_many_same_evaluations():
    from qa.rubric import score_transcript, score_transcripts

    calls = _dev(20)
    # the same call twice in one batch (same call_id) is scored twice, identically
    twice = calls + [copy.copy(calls[0])]
    many = [e.to_dict() for e in score_transcripts(twice, batch_size=8)]
    one = [score_transcript(t).to_dict() for t in twice]
    assert many == one
    assert many[0] == many[-1]


def test_call_types_inferred_in_batch_as_one_by_one():
    from qa.rubric.infer import infer_call_type, infer_call_types

    calls = _dev(32)
    empty = Transcript(call_id="empty", segments=[], language="it")
    calls.append(empty)
    assert infer_call_types(calls) == [infer_call_type(t) for t in calls]
    assert infer_call_types([empty]) == [("assistenza", 0.25)]
    assert infer_call_types([]) == []


def test_cli_batch_with_one_failing_call_scores_the_others(tmp_path, monkeypatch, capsys):
    """``qa score`` scores its files in batches; a call that cannot be scored (here: its call type's
    rubric is missing) is reported on one line and the other calls of the batch are still written."""
    import json
    import shutil

    from qa.cli import main as qa_main
    from qa.errors import EXIT_PARTIAL

    rubrics = tmp_path / "rubriche"
    rubrics.mkdir()
    for name in ("comune", "assistenza"):
        shutil.copy(ROOT / "rubriche" / f"{name}.yaml", rubrics)
    monkeypatch.setenv("QA_RUBRICS_DIR", str(rubrics))
    files = []
    for t in _dev(12):
        t.metadata["call_type"] = t.metadata.get("call_type") or "assistenza"
        f = tmp_path / f"{t.call_id}.json"
        t.save(f)
        files.append((f, t.metadata["call_type"]))
    out = tmp_path / "out"
    assert qa_main(["score", *[str(f) for f, _ in files], "-o", str(out)]) == EXIT_PARTIAL
    err = capsys.readouterr().err.strip().splitlines()
    missing = [f for f, ct in files if ct != "assistenza"]
    assert missing and len(err) == len(missing)
    assert all(line.startswith("qa: error: ") and "rubric not found" in line for line in err)
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{f.stem}.eval.json" for f, ct in files if ct == "assistenza")
    for f, _ in files:
        if (out / f"{f.stem}.eval.json").exists():
            assert json.loads((out / f"{f.stem}.eval.json").read_text())["rubric"] == "assistenza"


def test_broken_model_same_error_in_a_batch_as_alone(tmp_path):
    """Model conditions are asked only when the rules reach them (in rounds over the batch); a model
    that cannot be loaded still stops scoring with the error the first call alone gives."""
    import shutil

    from qa.errors import ModelError
    from qa.learning.learn import models_from
    from qa.rubric import score_transcript, score_transcripts

    for f in (ROOT / "modelli").iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path)
    (tmp_path / "prossimi_passi.joblib").write_bytes(b"not a model")
    calls = _dev(16)
    with models_from(tmp_path):
        with pytest.raises(ModelError) as alone:
            for t in calls:
                score_transcript(t)
        with pytest.raises(ModelError) as batched:
            list(score_transcripts(calls, batch_size=16))
    assert "prossimi_passi.joblib cannot be loaded" in str(alone.value)
    assert str(batched.value) == str(alone.value)


def test_rescore_chunk_through_the_batch_api_as_one_by_one(tmp_path, monkeypatch):
    """qa rescore scores its calls in chunks through ``qa.pipeline.score_each`` (one batch): the
    evaluations of scoring each call alone; a call that cannot be scored (here: its call type's
    rubric is missing) gets its own error and the other calls of its chunk are still evaluated."""
    import shutil

    from qa.pipeline import score_each

    rubrics = tmp_path / "rubriche"
    rubrics.mkdir()
    for name in ("comune", "assistenza"):
        shutil.copy(ROOT / "rubriche" / f"{name}.yaml", rubrics)
    monkeypatch.setenv("QA_RUBRICS_DIR", str(rubrics))
    calls = _dev(12)
    got = score_each(calls, None)
    want = [score_each([t], None)[0] for t in calls]
    failed = [g.evaluation is None for g in got]
    assert failed == [w.evaluation is None for w in want]
    assert any(failed) and not all(failed)
    assert [g.error for g in got] == [w.error for w in want]
    assert [g.evaluation.to_dict() for g in got if g.evaluation] == [w.evaluation.to_dict() for w in want if w.evaluation]
    forced = score_each(calls, "assistenza")  # no failure: one batch
    assert [f.evaluation.to_dict() for f in forced] == [score_each([t], "assistenza")[0].evaluation.to_dict()
                                                        for t in calls]
