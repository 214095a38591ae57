"""Mono role assignment (qa.analysis.roles.assign_roles): how often each turn gets the right role.

Reference transcripts with known speakers (the sample calls, the labelled development set)
have their speakers hidden, as a mono recording would give them, and the roles are assigned
back. Also on a harder variant where every turn is cut into sentences (as an ASR engine
segments speech), and with the turn-taking model switched off (text classifier alone).
On the LUNA dev set (tests/data/luna_dev: 30 real Italian help-desk calls, mono, speaker of every
turn labelled by two annotators and adjudicated, turns.csv) it measures per turn, per split: the
20 ``tune`` calls are tuned-on, the 10 ``heldout`` calls held-out (aggregates only). On the 30 LUNA dev
calls of the dev set it also reports plausibility figures (no reference roles used).

    python bench/roles.py         # prints the figures and writes bench/results/roles.md
    python bench/roles.py --asr   # also transcribes the mono sample calls with faster-whisper (minutes)
    python bench/roles.py --cv    # also the grouped 5-fold CV of the sequence model on the 20 LUNA tune
                                  # calls, with and without LUNA in training (a few minutes)
"""

from __future__ import annotations

import copy
import glob
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.analysis import roles  # noqa: E402
from qa.model import Segment, Transcript  # noqa: E402

# only the 30 calls of the LUNA dev set: the other 30 LUNA calls stay unread for an independent check
LUNA = ROOT / "tests" / "data" / "luna_dev" / "transcripts"
LUNA_DEV = ROOT / "tests" / "data" / "luna_dev"
AGENT_CUES = re.compile(r"come posso (aiutarla|esserle utile)|mi dica|help ?desk|in cosa posso")


def sentence_split(tr: Transcript) -> Transcript:
    """Cut each turn into sentences with proportional timings, 0.05 s apart (ASR-like segments)."""
    out = copy.deepcopy(tr)
    segs = []
    for s in tr.segments:
        parts = [p for p in re.split(r"(?<=[.?!])\s+", s.text) if p.strip()]
        if len(parts) < 2:
            segs.append(copy.deepcopy(s))
            continue
        total = sum(len(p) for p in parts)
        t = s.start
        span = s.end - s.start - 0.05 * (len(parts) - 1)
        for p in parts:
            d = span * len(p) / total
            segs.append(Segment(s.speaker, t, t + d, p))
            t += d + 0.05
    out.segments = segs
    return out


def evaluate(transcripts, variant=lambda t: t, text_only=False, threshold=roles.DEFAULT_THRESHOLD, sequence=None):
    agg = defaultdict(lambda: [0, 0, 0])
    calls_perfect = 0
    for tr in transcripts:
        ref = variant(tr)
        pred = roles.assign_roles(roles.hide_speakers(ref), threshold=threshold, turn_taking=not text_only,
                                  sequence=sequence)
        m = roles.role_accuracy(ref, pred)
        for key in ("all", tr.language):
            a = agg[key]
            a[0] += m["turns"]
            a[1] += round(m["accuracy"] * m["turns"])
            a[2] += round(m["coverage"] * m["turns"])
        calls_perfect += m["accuracy"] == 1.0
    return {k: {"turns": v[0], "accuracy": v[1] / v[0], "coverage": v[2] / v[0]} for k, v in agg.items()}, \
        calls_perfect


def luna_figures(threshold=roles.DEFAULT_THRESHOLD):
    files = sorted(glob.glob(str(LUNA / "*.json")))
    n_seg = n_unknown = both = cue_total = cue_agent = first_agent = 0
    conf = []
    for f in files:
        pred = roles.assign_roles(Transcript.load(f), threshold=threshold)
        sp = [s.speaker for s in pred.segments]
        n_seg += len(sp)
        n_unknown += sp.count("unknown")
        both += "agent" in sp and "customer" in sp
        first_agent += sp[0] == "agent"
        for s in pred.segments:
            conf.append(s.extra["role_confidence"])
            if AGENT_CUES.search(s.text):
                cue_total += 1
                cue_agent += s.speaker == "agent"
    return {"calls": len(files), "segments": n_seg, "unknown": n_unknown / n_seg, "both_roles": both,
            "first_agent": first_agent, "cue_turns": cue_total, "cue_agent": cue_agent / max(1, cue_total),
            "mean_confidence": sum(conf) / len(conf)}


def luna_reference_turns(path: Path = LUNA_DEV / "turns.csv") -> dict[str, dict[int, str]]:
    """LUNA dev set: call id -> segment index -> agent/customer (the adjudicated turns.csv)."""
    import csv

    out: dict[str, dict[int, str]] = defaultdict(dict)
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["call_id"]][int(row["turn"])] = row["speaker"].strip()
    return dict(out)


def luna_turn_pairs(transcript: Transcript, reference: dict[int, str], **options) -> list[tuple[str, str]]:
    """(reference, predicted) role of every labelled turn of a LUNA call: the call's roles assigned as
    the production path assigns them to a mono transcript (``qa.analysis.roles.assign_roles``, text and
    turn-taking, defaults unless ``options``); each turn takes the role of the predicted segment that
    overlaps it most (``unknown`` when none was decided)."""
    pred = roles.assign_roles(transcript, **options)
    pairs = []
    for i, seg in enumerate(transcript.segments):
        if i not in reference:
            continue
        best = roles.most_overlapping(seg, pred.segments)
        pairs.append((reference[i], best.speaker if best is not None else "unknown"))
    return pairs


def luna_dev_figures(**options) -> dict[str, dict]:
    """Per split (tune, heldout, all): turns, calls, accuracy (``unknown`` counts as wrong), coverage,
    Cohen's kappa (``qa.learning.calibration.kappa``) of the predicted roles against the adjudicated turns."""
    import csv

    from qa.learning.calibration import kappa

    with (LUNA_DEV / "split.csv").open(encoding="utf-8", newline="") as fh:
        split = {row["call_id"]: row["split"].strip() for row in csv.DictReader(fh)}
    ref = luna_reference_turns()
    pairs: dict[str, list] = defaultdict(list)
    calls: dict[str, int] = defaultdict(int)
    for cid in sorted(ref):
        t = Transcript.load(LUNA_DEV / "transcripts" / f"{cid}.json")
        got = luna_turn_pairs(t, ref[cid], **options)
        for key in (split[cid], "all"):
            pairs[key] += got
            calls[key] += 1
    out = {}
    for key in ("tune", "heldout", "all"):
        p = pairs[key]
        out[key] = {"calls": calls[key], "turns": len(p), "accuracy": sum(a == b for a, b in p) / len(p),
                    "coverage": sum(b != "unknown" for _, b in p) / len(p),
                    "precision": sum(a == b for a, b in p) / max(1, sum(b != "unknown" for _, b in p)),
                    "kappa": kappa([a for a, _ in p], [b for _, b in p])}
    return out


def luna_dev_md() -> list[str]:
    """The LUNA dev set section of bench/results/roles.md."""
    variants = (("hand-set turn-taking chain (production default)", {"sequence": False}),
                ("hand-set chain, no `unknown` (threshold 0.5)", {"sequence": False, "threshold": 0.5}),
                ("sequence model (opt-in, QA_ROLES_SEQUENCE=1)", {"sequence": True}),
                ("sequence model, no `unknown` (threshold 0.5)", {"sequence": True, "threshold": 0.5}),
                ("hand-set chain without the boundary context", {"sequence": False, "context": False}),
                ("text classifier alone", {"turn_taking": False}))
    status = {"tune": "tuned-on", "heldout": "held-out", "all": "mixed: 20 tuned-on + 10 held-out"}
    lines = ["## LUNA dev set: real mono calls, per turn", "",
             "tests/data/luna_dev: 30 real Italian help-desk calls (mono, lower case, names masked, timings "
             "estimated), the speaker of each of 1,859 turns labelled by two annotators and adjudicated "
             "(turns.csv). Roles assigned as the production path assigns them to a mono transcript "
             "(`qa.analysis.roles.assign_roles` on the transcript as it is); each labelled turn takes the role of the "
             "predicted segment overlapping it most. accuracy: right role / all turns (`unknown` counts as "
             "wrong); kappa: Cohen's kappa (`qa.learning.calibration.kappa`) over agent/customer/unknown.", "",
             "| variant | split | data | calls | turns | accuracy | coverage | precision (turns given a role) | kappa |",
             "|---|---|---|---|---|---|---|---|---|"]
    for vname, options in variants:
        res = luna_dev_figures(**options)
        for key in ("tune", "heldout", "all"):
            r = res[key]
            lines.append(f"| {vname} | {key} | {status[key]} | {r['calls']} | {r['turns']} | {r['accuracy']:.1%} | "
                         f"{r['coverage']:.1%} | {r['precision']:.1%} | {r['kappa']:.3f} |")
    lines += ["", "Human vs human on the same turns (tests/data/luna_dev/README.md): annotator 1 vs annotator 2 "
              "90.7 % (kappa 0.815); each annotator against the adjudicated turns 96.8 % and 93.9 %. "
              "Target (issue 12): speaker role per turn >= 90 %.", ""]
    return lines


def cv_md() -> list[str]:
    """The cross-validated LUNA figure (issue 12): grouped 5-fold CV by call on the 20 tune calls."""
    from qa.analysis import roles_text

    spont = roles_text.spontaneous_dialogues()
    lines = ["", "## LUNA tune calls, cross-validated (sequence model)", "",
             "Grouped 5-fold CV by call on the 20 LUNA tune calls (`roles_text.sequence_cross_validation`): "
             "each fold's model is trained on the spontaneous dialogues and the other 16 tune calls, never on "
             "its 4 test calls; without LUNA, one model trained on the project's own dialogues only.", "",
             "| training | calls | segments | accuracy (threshold 0.5) | accuracy at the default threshold |",
             "|---|---|---|---|---|"]
    for luna in (True, False):
        r = roles_text.sequence_cross_validation(luna=luna, spont=spont)
        lines.append(f"| {'spontaneous dialogues + LUNA tune (other folds)' if luna else 'spontaneous dialogues only'} "
                     f"| {r['calls']} | {r['segments']} | {r['accuracy']:.1%} | {r['accuracy_at_default']:.1%} |")
    return lines


def asr_figures():
    """Mono sample calls through faster-whisper (base): roles from text+turns vs with voices."""
    import jiwer

    from qa.audio import load_audio
    from qa.transcribe import TranscribeOptions, transcribe_file

    import csv

    with (ROOT / "samples" / "calls.csv").open(encoding="utf-8", newline="") as f:
        files = {row["call_id"]: row["file"] for row in csv.DictReader(f)}
    rows = []
    for cid in ("DEMO-IT-02", "DEMO-DE-02", "DEMO-EN-02"):  # the mono sample calls
        name = files[cid]
        ref = Transcript.load(ROOT / "samples" / "transcripts" / f"{cid}.json")
        path = ROOT / "samples" / name
        tr = transcribe_file(path, TranscribeOptions(language=ref.language), metadata=dict(ref.metadata))
        audio = load_audio(path)

        def seg_acc(pred):
            ok = 0
            for s in pred.segments:
                best = max(ref.segments, key=lambda r: min(r.end, s.end) - max(r.start, s.start))
                ok += s.speaker == best.speaker
            return ok / len(pred.segments)

        def words(t):
            return " ".join(re.sub(r"[^\w\s']", " ", t.lower()).split())

        wer = jiwer.wer(words(" ".join(s.text for s in ref.segments)), words(" ".join(s.text for s in tr.segments)))
        a = roles.assign_roles(roles.hide_speakers(tr))
        b = roles.assign_roles(roles.hide_speakers(tr), audio=audio.mono(), sample_rate=audio.sample_rate)
        rows.append((cid, len(tr.segments), wer, seg_acc(a), seg_acc(b)))
    return rows


def main() -> int:
    samples = [Transcript.load(p) for p in sorted((ROOT / "samples" / "transcripts").glob("*.json"))]
    dev = [Transcript.load(p) for p in sorted((ROOT / "tests" / "data" / "devset").glob("*.json"))]
    # 28 calls written in the style of real machine transcripts (lower case, masks, a speaker's talk split
    # over several segments) by an independent author, speakers in the JSON (its turns.csv): scored
    # once untouched on 2026-12-07, then tuning data for the rubrics (never for the role model)
    batch7 = [Transcript.load(p) for p in sorted((ROOT / "tests" / "data" / "rules_fresh" / "batch7").glob("*.json"))]
    lines = ["# Mono role assignment (qa.analysis.roles)", "",
             "Speakers of reference transcripts hidden, then assigned back by `assign_roles` "
             f"(threshold {roles.DEFAULT_THRESHOLD}). accuracy = right role / all turns "
             "(`unknown` counts as wrong); coverage = turns given a role.", "",
             "| set | variant | turns | accuracy | coverage | calls all right |", "|---|---|---|---|---|---|"]
    for name, data in (("samples", samples), ("devset", dev), ("rules_fresh/batch7, real-call style", batch7)):
        for vname, variant, text_only, seq in (("turns (hand-set chain, default)", lambda t: t, False, False),
                                               ("sentence segments", sentence_split, False, False),
                                               ("turns, sequence model (opt-in)", lambda t: t, False, True),
                                               ("turns, text classifier alone", lambda t: t, True, False)):
            res, perfect = evaluate(data, variant, text_only, sequence=seq)
            a = res["all"]
            lines.append(f"| {name} ({len(data)} calls) | {vname} | {a['turns']} | {a['accuracy']:.1%} | "
                         f"{a['coverage']:.1%} | {perfect}/{len(data)} |")
            if name == "devset" and vname.startswith("turns (hand-set chain"):
                per_lang = res
    lines += ["", "Development set per language (turns):", "", "| language | turns | accuracy | coverage |",
              "|---|---|---|---|"]
    for lang in ("it", "de", "fr", "en"):
        if lang in per_lang:
            r = per_lang[lang]
            lines.append(f"| {lang} | {r['turns']} | {r['accuracy']:.1%} | {r['coverage']:.1%} |")
    lines += [""] + luna_dev_md()
    if "--cv" in sys.argv:
        lines += cv_md()
    lf = luna_figures()
    lines += ["", f"LUNA plausibility ({lf['calls']} real Italian help-desk calls of the dev set, no reference roles "
              "used; timings estimated):", "",
              f"- segments: {lf['segments']}, left `unknown`: {lf['unknown']:.1%}; mean role confidence "
              f"{lf['mean_confidence']:.2f}",
              f"- calls with both roles: {lf['both_roles']}/{lf['calls']}; first segment agent: "
              f"{lf['first_agent']}/{lf['calls']}",
              f"- segments with an agent phrase (come posso aiutarla / mi dica / helpdesk / in cosa posso): "
              f"{lf['cue_turns']}, labelled agent: {lf['cue_agent']:.1%}"]
    if "--asr" in sys.argv:
        lines += ["", "Mono sample calls transcribed by faster-whisper base (espeak voices at 8 kHz): share of "
                  "Whisper segments given the role of the reference turn they overlap most.", "",
                  "| call | Whisper segments | WER | text + turns | + voice clusters |", "|---|---|---|---|---|"]
        for cid, n, wer, a, b in asr_figures():
            lines.append(f"| {cid} | {n} | {wer:.0%} | {a:.1%} | {b:.1%} |")
    lines += ["", "Notes: the development set was never trained on, but the few settings of the turn-taking "
              "model (EM prior strength, voice weight) were chosen looking at its figures, so they are "
              "slightly optimistic; while the training data was written two development calls were "
              "inspected and the lines written after them were taken out again. The LUNA plausibility "
              "figures use no reference roles; the per-turn figures above do. Whisper's segmentation varies with the "
              "engine settings, so the --asr figures move between versions.",
              "",
              "LUNA: the role model is trained on the scripted turns (modelli/dati/ruoli.tsv) and on spontaneous "
              "ASR-style dialogues written for the project (modelli/dati/ruoli_spont, no LUNA text). The boundary "
              "context of the turn-taking model (qa.analysis.turns.SHIFTS: cut mid-sentence, answer word, "
              "backchannel in/out) takes its directions from those dialogues and its sizes, shrunk from theirs, "
              "were checked on the LUNA tune split, so the tune figures are tuned-on; the held-out rows are "
              "reported, never tuned on. The default threshold stays 0.6: with 0.5 (no `unknown`) the per-turn "
              "accuracy on the tune split rises (the row above) but the rubrics' macro kappa on the LUNA tune "
              "calls falls (bench/agreement.py, measured with the retrained model before the backchannel features: 0.609 at 0.5 vs 0.637 at 0.6), since a wrong "
              "agent turn misleads a criterion more than an `unknown` one. Before this work (model of "
              "2026-11-29, no boundary context) the production default reached 52.7 % on the tune split; "
              "the text classifier alone, forced to decide every segment (threshold 0.5), stays near 63 % on the tune split even with the new data (the fragments of "
              "real calls carry little that tells the parties apart), which is what limits the whole.",
              "",
              "Issue 12 (2026-12-07), what goes wrong on the tune split: no call is flipped whole (every call "
              "opens with the agent, and so does the prediction); the decoder alternates almost strictly while "
              "the reference changes speaker at 68 % of boundaries, so after each run of one speaker it slips out "
              "of phase until text evidence pulls it back, and its posteriors are over-confident (turns decided "
              "with 0.85-0.95 are right 67 % of the time). Neither a better decoder nor better words closed "
              "the gap in these experiments, all on the tune split: a run-length (second-order) chain, "
              "EM settings, the text "
              "exponent, the short-turn weight, self-training the words of each call, and more cue words "
              "each moved the tune figure by under one point; diagnostics trained on the tune split itself "
              "(never shipped: LUNA text is not trained on), leave-one-call-out, reached 64 % per turn "
              "for a classifier of the words of a segment and its neighbours (67 % inside the decoder) and 70 % "
              "of boundaries for a change-of-speaker classifier, no better than the shipped model. On these "
              "calls the parties are told apart by meaning more than by words, so the 90 % target needs "
              "evidence of another kind (the voices, when the audio is at hand; a language model reading "
              "the call), not more tuning of this one. Kept: cue words count 4.0x (was 2.5x: tune 61.1 -> "
              "62.5 %), a faster decoder. Rubric macro kappa on the LUNA tune calls by threshold "
              "(bench/agreement.py, this model): 0.739 at 0.5, 0.759 at 0.6, 0.777 at 0.7, so the default "
              "stays 0.6.",
              "",
              "Issue 12, second pass (2026-12-07, the sequence model): a two-state linear-chain CRF over the "
              "segments (qa.analysis.sequence: segment words and bigrams, first/last word, length, position, the "
              "words of both neighbours, the text classifier's log-odds, the cue words; per boundary cut "
              "mid-sentence, backchannel, answer word, last word before / first word after, the two lengths, "
              "digits read back), weights fitted jointly by maximum likelihood on whole dialogues, decoded by the "
              "same forward-backward with the change rate refitted per call (EM). It decides unpunctuated "
              "Italian transcripts (`roles.SEQ_LANGS`, `roles.unpunctuated`: written as its training dialogues, "
              "like a real call's machine transcript); de/fr/en and punctuated calls keep the hand-set chain, "
              "since with the sequence model the scripted de/fr/en sets (few dialogues of theirs in its training) "
              "and the punctuated Italian calls cut into sentences got worse (samples 95.6 -> 85.9 %, devset "
              "92.4 -> 89.1 % on sentence segments before it was gated). Its LUNA figure is cross-validated "
              "(`--cv`, table above): about 68-70 % per segment at threshold 0.5 and 61-63 % at the default "
              "0.6, with or without the LUNA tune turns in training, the same as the hand-set chain's "
              "tuned-on figure: the sequence model does not raise the real-call figure. The LUNA turns help at "
              "0.5 and hurt at 0.6 (less confident posteriors), so the shipped model is trained without them "
              "(no CC BY-NC-SA text in it); `train_sequence_model(luna=True)` trains with them. On the scripted "
              "real-call style set (batch7) the Italian calls gain (rows \"turns\" vs \"hand-set chain\"). "
              "90 % per segment stays out of reach with text evidence on these calls: the segments mix the two "
              "parties (overlapping speech interleaved into one segment, \"ho\" | \"però la capito\"), and "
              "the two annotators themselves agree on 90.7 %.",
              "",
              "Opt-in (lead's decision, 2026-12-07): the production default stays the hand-set chain and the "
              "sequence model is switched on by QA_ROLES_SEQUENCE=1 (`assign_roles(sequence=True)`). With a "
              "speaker trusted in scoring only from confidence 0.7 (qa.rubric.context.SCORING_ROLE_CONFIDENCE), "
              "the rubrics agree with the LUNA tune labels at macro kappa 0.818 / accuracy 0.955 with the chain "
              "and 0.817 / 0.946 with the sequence model (tuned-on): it assigns more turns right but the "
              "criteria gain nothing on the data it may be chosen on.",
              "",
              "With the LUNA tune turns in training (train_sequence_model(luna=True), all 20 tune calls, measured once 2026-12-07 with `luna_dev_figures(sequence=<that model>)`, not shipped): held-out aggregate 64.0 % at the default threshold (coverage 84.8 %) and 71.6 % at 0.5, against 66.4 % and 71.3 % for the shipped model without LUNA and 61.0 % and 70.7 % for the hand-set chain; batch7 Italian 84.3 % (shipped 85.2 %)."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench" / "results" / "roles.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
