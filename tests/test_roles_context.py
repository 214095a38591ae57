"""Mono role assignment, the context of a segment (qa.analysis.turns) and the spontaneous training
dialogues (modelli/dati/ruoli_spont): on the authored dialogues and on the real LUNA calls of the
dev set's tuning split (tuned-on; the held-out split is not read here)."""

from __future__ import annotations

import csv
import importlib.util
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from qa.analysis import roles, roles_text, sequence, turns
from qa.model import Transcript

ROOT = Path(__file__).resolve().parents[1]
SPONT = ROOT / "modelli" / "dati" / "ruoli_spont"
LUNA = ROOT / "tests" / "data" / "luna_dev"


def _build_module():
    spec = importlib.util.spec_from_file_location("ruoli_spont_build", SPONT / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tune():
    with (LUNA / "split.csv").open(encoding="utf-8") as fh:
        ids = sorted(r["call_id"] for r in csv.DictReader(fh) if r["split"] == "tune")
    ref: dict = defaultdict(dict)
    with (LUNA / "turns.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["call_id"] in ids:
                ref[r["call_id"]][int(r["turn"])] = r["speaker"]
    assert len(ids) == 20
    return [(Transcript.load(LUNA / "transcripts" / f"{cid}.json"), ref[cid]) for cid in ids]


def test_boundary_features_read_how_a_segment_was_cut():
    f = turns.boundary_features("mi hai detto che non arriva il segnale al", "monitor vero", "it")
    assert f["cut"] and not f["answer"] and not f["backchannel_in"]
    f = turns.boundary_features("ho riavviato il computer ma non parte", "sì sì", "it")
    assert f["backchannel_in"] and not f["cut"] and not f["answer"]
    f = turns.boundary_features("sì sì", "okay allora proviamo a reinstallare il driver", "it")
    assert f["backchannel_out"] and f["answer"]
    # a finished sentence is no cut, whatever its last word
    assert not turns.boundary_features("Das ist die.", "Ja.", "de")["cut"]
    assert turns.boundary_features("c'est pour la", "facture de mars", "fr")["cut"]
    assert turns.boundary_features("it keeps dropping", "yeah", "en")["backchannel_in"]
    # the shifts follow: a cut keeps the speaker, a backchannel changes it
    segs = Transcript("t", [], language="it")
    assert turns.change_shifts(segs.segments) == []


def test_spontaneous_dialogues_are_whole_varied_and_asr_like():
    build = _build_module()
    dialogues = [d for src in sorted(SPONT.glob("dialoghi_*.txt")) for d in build.read_source(src)]
    langs = Counter(did.split("-")[0] for did, _, _ in dialogues)
    domains = {dom for _, dom, _ in dialogues}
    assert set(langs) == {"it", "de", "fr", "en"} and langs["it"] >= 40 and min(langs.values()) >= 4
    assert len(domains) >= 6, domains
    assert len({did for did, _, _ in dialogues}) == len(dialogues)
    for did, _, turns_ in dialogues:
        assert {r for r, _ in turns_} == {"agent", "customer"}, did  # whole dialogues, both parties
        for _, text in turns_:
            assert text == text.lower() or "<" in text, (did, text)  # lower case (masks aside)
            assert not re.search(r"[.,;:?!]", text), (did, text)  # no punctuation
    # the TSVs are what build.py makes of the sources (one group per dialogue, in the order spoken)
    read = roles_text.read_dialogues()
    assert len(read) == len(dialogues)
    for did, _, turns_ in dialogues:
        segs = read[f"spont-{did}"]
        assert " ".join(t for _, t in segs) == " ".join(roles_text.normalise_text(t) for _, t in turns_)
        assert [r for r, _ in segs][0] == turns_[0][0]
    assert any(len(read[f"spont-{did}"]) > len(t) for did, _, t in dialogues)  # long turns were cut


def test_shift_directions_come_from_the_dialogues():
    """The boundary features move the change probability the way the authored dialogues show."""
    stats = turns.change_statistics(list(roles_text.read_dialogues().values()))
    for name, shift in turns.SHIFTS.items():
        assert stats[name]["with"] >= 30, name
        assert (stats[name]["log_odds_ratio"] > 0) == (shift > 0), (name, stats[name])
        assert abs(shift) <= abs(stats[name]["log_odds_ratio"]), name  # shrunk, never stronger


def test_context_helps_backchannels_on_real_calls(tune):
    """The hand-set chain (``sequence=False``), LUNA tune split (tuned-on): a short "sì" / "okay" between two
    segments of the other party.
    Measured: 72.2 % of 133 such segments right with the context, 66.9 % without; all segments
    68.4 % vs 66.0 % (no ``unknown``)."""
    bc = {True: [0, 0], False: [0, 0]}
    every = {True: [0, 0], False: [0, 0]}
    for tr, ref in tune:
        for context in (True, False):
            pred = roles.assign_roles(tr, threshold=0.5, context=context, sequence=False)
            for i, seg in enumerate(tr.segments):
                ok = pred.segments[i].speaker == ref[i]
                every[context][0] += ok
                every[context][1] += 1
                if i and turns.boundary_features(tr.segments[i - 1].text, seg.text, "it")["backchannel_in"]:
                    bc[context][0] += ok
                    bc[context][1] += 1
    assert bc[True][1] >= 100
    assert bc[True][0] / bc[True][1] >= bc[False][0] / bc[False][1] + 0.03
    assert every[True][0] / every[True][1] >= every[False][0] / every[False][1] + 0.01


def test_forward_backward_matches_enumeration_of_every_path():
    """The scalar forward-backward against the sum over all 2^n speaker sequences of short chains:
    posteriors, change probabilities and log-likelihood (including an anchored, near-certain segment)."""
    import itertools
    import math
    import random

    rnd = random.Random(12)
    for n in range(1, 8):
        for _ in range(5):
            em = [(rnd.random() ** 2 + 1e-3, rnd.random() ** 2 + 1e-3) for _ in range(n)]
            if n > 2:
                em[rnd.randrange(n)] = (1.0, 1e-6)
            pc = [rnd.uniform(0.05, 0.97) for _ in range(n - 1)]
            pf = rnd.uniform(0.1, 0.9)
            total, agent, change = 0.0, [0.0] * n, [0.0] * (n - 1)
            for path in itertools.product((0, 1), repeat=n):
                w = (pf if path[0] == 0 else 1 - pf) * em[0][path[0]]
                for i in range(1, n):
                    w *= (pc[i - 1] if path[i] != path[i - 1] else 1 - pc[i - 1]) * em[i][path[i]]
                total += w
                for i in range(n):
                    agent[i] += w * (path[i] == 0)
                for i in range(n - 1):
                    change[i] += w * (path[i] != path[i + 1])
            post, changes, loglik = turns.forward_backward(em, pc, pf)
            assert post == pytest.approx([a / total for a in agent], abs=1e-9)
            assert changes == pytest.approx([c / total for c in change], abs=1e-9)
            assert loglik == pytest.approx(math.log(total), abs=1e-9)


# --- the sequence model (issue 12): a two-state CRF over a call's segments ---------------------------

@pytest.fixture(scope="module")
def spont_quick():
    """The spontaneous dialogues with the shipped classifier's probabilities (not out-of-fold: quicker,
    a little optimistic on these dialogues, which is all the training below sees of them)."""
    return roles_text.spontaneous_dialogues(oof=False)


def test_shipped_sequence_model_decides_real_luna_calls(tune):
    """The shipped sequence model (trained without LUNA text: its card says so) on the 20 LUNA tune calls,
    which it never saw: measured 68.2 % of 1,193 segments right at threshold 0.5 (the hand-set chain:
    69.0 %, tuned on these calls); per call 54-86 %, LUNA-0704000035 (61 segments) 83.6 %; the first
    segment is the agent's in every call, and so decided in 19 of 20."""
    model = roles_text.load_sequence_model()
    assert model is not None and model["card"]["luna_calls"] == 0
    assert "LUNA" not in " ".join(model["card"]["training_data"])
    right = total = first_agent = 0
    for tr, ref in tune:
        pred = roles.assign_roles(tr, threshold=0.5, sequence=True)
        assert pred.extra["roles"]["method"].startswith("sequence model")
        got = [s.speaker for s in pred.segments]
        first_agent += got[0] == "agent"
        ok = sum(g == ref[i] for i, g in enumerate(got))
        if tr.call_id == "LUNA-0704000035":
            assert ok / len(got) >= 0.78, ok / len(got)
        right += ok
        total += len(got)
    assert total == 1193 and first_agent >= 18
    assert right / total >= 0.65, right / total


def test_sequence_model_trains_without_luna_and_cross_validates(spont_quick):
    """Training without LUNA (the switch): no LUNA call in the training set; the model, the same for
    every fold, on the 20 tune calls per segment (threshold 0.5): measured 65.4 %."""
    seqs, calls = roles_text._sequence_training_set(False, spont_quick)
    assert calls == [] and len(seqs) == len(spont_quick) >= 60
    r = roles_text.sequence_cross_validation(luna=False, spont=spont_quick)
    assert r["segments"] == 1193 and not r["luna_in_training"]
    assert r["accuracy"] >= 0.62, r


def test_sequence_model_learns_from_luna_calls_it_is_tested_apart_from(spont_quick):
    """Trained on the spontaneous dialogues and 10 LUNA tune calls, tested on the other 10 (never
    trained on), per segment at threshold 0.5: measured 67.5 % of 553 segments."""
    from qa.analysis.sequence import sequence_posterior, train_sequence

    calls = sorted(roles_text.luna_dialogues(), key=lambda c: c[0])
    assert len(calls) == 20 and sum(len(c[1]) for c in calls) == 1193
    train_calls, test_calls = calls[0::2], calls[1::2]
    seqs = [roles_text.sequence_example(t, lang, p, r) for _, t, r, lang, p in spont_quick]
    seqs += [roles_text.sequence_example(t, lang, None, r) for _, t, r, lang in train_calls]
    w, v = train_sequence(seqs, l2=roles_text.SEQ_L2)
    right = total = 0
    for _, texts, roles_, lang in test_calls:
        nodes, edges, y = roles_text.sequence_example(texts, lang, None, roles_)
        post = sequence_posterior(nodes, edges, w, v)
        right += sum((p >= 0.5) == bool(t) for p, t in zip(post, y))
        total += len(y)
    assert total == 553
    assert right / total >= 0.63, right / total


def test_luna_training_file_holds_only_tune_calls():
    """modelli/dati/ruoli_luna: the tune calls only (never a held-out one), with the licence beside it,
    and not read by the text classifier's training."""
    with (LUNA / "split.csv").open(encoding="utf-8") as fh:
        split = {r["call_id"]: r["split"] for r in csv.DictReader(fh)}
    calls = roles_text.luna_dialogues()
    assert {c[0] for c in calls} == {c for c, s in split.items() if s == "tune"}
    folder = ROOT / "modelli" / "dati" / roles_text.LUNA_DIR
    assert (folder / "LICENSE-CC-BY-NC-SA-4.0.txt").exists()
    assert not any(roles_text.LUNA_DIR in str(p) for p in roles_text.training_data_files())


def test_sequence_model_keeps_anchors_and_other_languages():
    """Known speakers stay anchors; a German call keeps the hand-set chain (``roles.SEQ_LANGS``)."""
    from qa.model import Segment

    segs = [Segment("agent", 0, 2, "servizio clienti buongiorno"), Segment("unknown", 2.5, 4, "sì buongiorno ho un problema con la fattura"),
            Segment("unknown", 4.5, 6, "mi dà il numero cliente per favore"), Segment("customer", 6.5, 8, "sì è il 12")]
    out = roles.assign_roles(Transcript("x", segs, language="it"), threshold=0.5, sequence=True)
    assert [s.speaker for s in out.segments] == ["agent", "customer", "agent", "customer"]
    assert out.extra["roles"]["method"].startswith("sequence model")
    # opt-in: the default is the hand-set chain (roles.SEQUENCE_DEFAULT)
    default = roles.assign_roles(Transcript("x", segs, language="it"), threshold=0.5)
    assert not default.extra["roles"]["method"].startswith("sequence model")
    de = Transcript("y", [Segment("unknown", 0, 2, "Kundendienst guten Tag"), Segment("unknown", 2.5, 4, "ich habe ein Problem")],
                    language="de")
    assert not roles.assign_roles(de, sequence=True).extra["roles"]["method"].startswith("sequence model")


def test_fast_scoring_path_equals_the_feature_dicts(tune):
    """The scoring path (``sequence.sequence_scores_fast``) gives the log-odds of the training path's
    feature dicts (``sequence_features`` + ``sequence_scores``) on real calls."""
    import math

    model = roles_text.load_sequence_model()
    for tr, _ in tune:
        texts = [s.text for s in tr.segments]
        p = roles_text.text_probabilities(texts)
        cues = [math.log(roles_text.cue_ratio(t, "it")) for t in texts]
        slow = sequence.sequence_scores(*sequence.sequence_features(texts, p, cues, "it"), model["node"], model["edge"])
        fast = sequence.sequence_scores_fast(texts, p, cues, "it", model["node"], model["edge"])
        assert fast[0] == pytest.approx(slow[0], abs=1e-9) and fast[1] == pytest.approx(slow[1], abs=1e-9)
