"""Call detail: audio that jumps to a transcript line or a piece of evidence, the transcript
(speakers told apart, personal data as stored: redacted when redaction is on), results per
criterion with evidence and feedback (human reviews shown, also when carried over from an
earlier rubric version), call metrics; override (supervisor / QA lead) and dispute (operator).

Privacy: every role hears the redacted copy of the recording (``calls.redacted_audio_path``);
only an admin may switch to the original, and each play or download of it is audited. A stored
path is opened only inside the data directory (``qa.store.paths.safe_data_path``); an audio file
named by the transcript JSON is never played. An id that does not exist and a call that is not
the user's give the same message. ``call_open`` is audited once per call per session.
"""

from __future__ import annotations

import streamlit as st

from ...errors import QAError, StoreError
from ...store.paths import AUDIO_SUFFIXES, safe_data_path
from ..access import AccessDenied, can
from ..app import context
from ..i18n import TEXTS, t
from .common import (ICON, RESULT_ICON, SPEAKER_ICON, audit_once, audited_download, fmt_time, lang_name, md_escape,
                     na_reason, result_label, speaker_label)

AUDIO_MIME = {".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
              ".flac": "audio/flac", ".m4a": "audio/mp4", ".mp4": "audio/mp4", ".aac": "audio/aac",
              ".webm": "audio/webm", ".wav": "audio/wav"}


def _seek_key(call_id: str) -> str:
    return f"seek::{call_id}"


def _seek(call_id: str, seconds: float) -> None:
    st.session_state[_seek_key(call_id)] = float(seconds)


def render() -> None:
    """The call page: audio, transcript, criteria with evidence, metrics, override/dispute forms."""
    store, principal, lang = context()
    call_id = st.query_params.get("call") or st.session_state.get("selected_call")
    if not call_id:
        st.info(t("choose_call", lang))
        return
    try:
        call = _open(store, principal, call_id)
    except QAError:  # AccessDenied too: "not yours" must not tell that the id exists
        st.error(t("call_not_found", lang))
        return
    st.query_params["call"] = call_id
    transcript = store.load_transcript(call_id)
    evaluation = store.load_evaluation(call_id)

    st.title(f"{t('page_call', lang)} {md_escape(call_id)}")
    c1, c2 = st.columns([1, 4])
    c1.metric(t("score", lang), "-" if call.score is None else f"{call.score:.0f}")
    facts = [(t("agent", lang), call.agent_name or call.agent_id), (t("team", lang), call.team),
             (t("call_type", lang), call.call_type), (t("call_language", lang), lang_name(call.language, lang)),
             (t("started_at", lang), call.started_at.strftime("%Y-%m-%d %H:%M") if call.started_at else None),
             (t("duration", lang), f"{call.duration:.0f}" if call.duration else None)]
    c2.markdown("  \n".join(f"**{k}:** {md_escape(v)}" for k, v in facts if v))
    if call.compliance_flag:
        st.error(t("compliance_flag", lang), icon=ICON["critical"])

    _audio(store, principal, call, transcript, lang)
    left, right = st.columns([3, 2])
    with left:
        _transcript(call_id, transcript, evaluation, lang)
    with right:
        _criteria(store, principal, call_id, evaluation, lang)
    _metrics(store, call, lang)
    _history(store, call_id, lang)


def _open(store, principal, call_id):
    """``access.open_call``, audited once per call and outcome per session (not on every rerun)."""
    from ..access import open_call

    try:
        call = open_call(store, principal, call_id, audit=False)
    except AccessDenied:
        audit_once(store, principal, "call_open_denied", call_id, {"role": principal.role})
        raise
    except QAError:
        audit_once(store, principal, "call_open_missing", call_id)
        raise
    audit_once(store, principal, "call_open", call_id, {"role": principal.role})
    return call


def _audio(store, principal, call, transcript, lang: str) -> None:
    """The player: the redacted copy for every role; the original only for an admin who asks
    for it (audited); nothing outside the data directory, nothing a transcript file names."""
    call_id = call.call_id
    named = (transcript.extra or {}).get("redacted_audio") if transcript.extra else None
    if named:  # a transcript JSON may not choose which server file is played
        audit_once(store, principal, "audio_refused", call_id,
                   {"source": "transcript", "path": str(named)[:300], "reason": "named by the transcript file"})
        st.caption(t("audio_from_transcript_refused", lang))
    redacted = call.redacted_audio_path
    original = call.audio_path if call.audio_path and call.audio_path != redacted else None
    admin = can(principal, "original_audio")
    variant, stored = ("redacted", redacted) if redacted else (None, None)
    if admin and original and st.toggle(t("play_original", lang), key=f"original::{call_id}"):
        variant, stored = "original", original
    if stored is None:
        st.caption(t("no_redacted_audio" if original else "no_audio", lang))
        return
    try:
        path = safe_data_path(stored, suffixes=AUDIO_SUFFIXES)
    except StoreError as e:
        audit_once(store, principal, "audio_refused", call_id, {"variant": variant, "reason": str(e)}, what=variant)
        st.warning(t("audio_refused", lang))
        return
    audit_once(store, principal, "audio_play", call_id, {"variant": variant, "file": path.name}, what=variant)
    start = st.session_state.get(_seek_key(call_id), 0.0)
    mime = AUDIO_MIME.get(path.suffix.lower(), "audio/wav")
    data = path.read_bytes()
    st.audio(data, format=mime, start_time=int(start))
    st.caption(f"{ICON['time']} {fmt_time(start)}" + (f" · {t('original_audio_note', lang)}" if variant == "original" else ""))
    if variant == "original":
        audited_download(store, principal, t("download_original", lang), data, f"{call_id}{path.suffix.lower()}",
                         mime, key=f"dl_original::{call_id}", action="audio_download", call_id=call_id,
                         details={"variant": "original"})


def _transcript(call_id: str, transcript, evaluation, lang: str) -> None:
    st.subheader(t("transcript", lang))
    evidence_times = {
        (round(e.start, 2), round(e.end, 2))
        for c in (evaluation.criteria if evaluation else []) for e in c.evidence
    }
    for i, seg in enumerate(transcript.segments):
        c1, c2 = st.columns([1, 6])
        c1.button(fmt_time(seg.start), key=f"seg-{i}", on_click=_seek, args=(call_id, seg.start),
                  help=t("play_from", lang, t=fmt_time(seg.start)))
        who = speaker_label(seg.speaker, lang)
        text = md_escape(seg.text)  # transcript text is data: never links, images or formatting
        if (round(seg.start, 2), round(seg.end, 2)) in evidence_times:
            text = f":orange-background[{text}]"
        c2.markdown(f"{SPEAKER_ICON.get(seg.speaker, SPEAKER_ICON['unknown'])} **{who}** — {text}")


def _criteria(store, principal, call_id: str, evaluation, lang: str) -> None:
    st.subheader(t("criteria", lang))
    if evaluation is None:
        st.caption("-")
        return
    overridden = set(evaluation.extra.get("overridden", []))
    doubts: dict[str, list[dict]] = {}
    for d in evaluation.extra.get("second_opinion") or []:
        if isinstance(d, dict) and d.get("criterion"):
            doubts.setdefault(str(d["criterion"]), []).append(d)
    from ...learning.intervals import format_interval
    from ...learning.reliability import criterion_reliability, load_reliability

    measured = load_reliability()
    mono = bool(evaluation.extra.get("roles_inferred"))
    for ci, c in enumerate(evaluation.criteria):
        reliability = criterion_reliability(c.id, mono, measured, evaluation.rubric_version)
        title = c.title or c.id
        review = c.extra.get("review")
        marker = f" {ICON['edited']}" if c.id in overridden or review else ""
        with st.expander(f"{title} · {c.competence}{marker}", icon=RESULT_ICON.get(c.result),
                         expanded=c.result == "fail" or c.id in doubts):
            st.markdown(f"**{result_label(c.result, lang)}**"
                        + (f" · :orange[{ICON['critical']}] {t('critical', lang)}" if c.critical else ""))
            if review:
                st.caption(review_line(review, lang))
            elif c.id in overridden:
                st.caption(t("overridden", lang))
            for rel in reliability:  # how often this criterion agrees with evaluators on unseen calls
                st.caption(t(f"reliability_{rel['kind']}", lang, acc=f"{100 * rel['accuracy']:.0f} %", n=rel["n"],
                             ci=format_interval(rel["interval"], True)))
            reason = na_reason(c, lang)
            if reason:  # e.g. why a criterion is not applicable (the recording starts after the opening)
                st.info(f"**{t('na_reason', lang)}:** {md_escape(reason)}", icon=ICON["reason"])
            for doubt in doubts.get(c.id, []):  # a call model reads applicability otherwise: check it
                key = "second_opinion_applies" if doubt.get("p_applies", 0) >= 0.5 else "second_opinion_na"
                st.warning(t(key, lang, p=float(doubt.get("p_applies", 0))), icon=ICON["critical"])
            if c.feedback:
                st.write(c.feedback)
            for ei, e in enumerate(c.evidence):
                st.button(f"{fmt_time(e.start)} {speaker_label(e.speaker, lang)}: “{md_escape(e.text[:90])}”",
                          key=f"ev-{ci}-{ei}", on_click=_seek, args=(call_id, e.start), icon=ICON["play"],
                          help=t("play_from", lang, t=fmt_time(e.start)))
    if can(principal, "override"):
        _override_form(store, principal, call_id, evaluation, lang)
    if can(principal, "dispute"):
        _dispute_form(store, principal, call_id, evaluation, lang)


def review_line(review: dict, lang: str) -> str:
    """"override by X on <date>[, accepted dispute N][, carried over from rubric version V]"."""
    line = t("review_by", lang, who=md_escape(review.get("by") or "?"), date=(review.get("at") or "")[:10])
    if review.get("dispute"):
        line += " · " + t("review_dispute", lang, n=review["dispute"])
    if review.get("carried_over_from"):
        line += " · " + t("carried_over", lang, version=md_escape(review["carried_over_from"]))
    return line


def _override_form(store, principal, call_id: str, evaluation, lang: str) -> None:
    saved = st.session_state.pop(f"override_saved::{call_id}", None)  # set just before the rerun below
    if saved:
        st.success(saved)
    with st.form(f"override-{call_id}"):
        st.markdown(f"**{t('override', lang)}**")
        ids = [c.id for c in evaluation.criteria]
        crit = st.selectbox(t("criterion", lang), ids, key="override_criterion", placeholder=t("choose_one", lang))
        new = st.radio(t("new_result", lang), ["pass", "fail", "na"], horizontal=True, key="override_result",
                       format_func=lambda r: t("result_" + r, lang))
        comment = st.text_area(t("comment", lang), key="override_comment")
        if st.form_submit_button(t("save", lang)):
            if not comment.strip():
                st.warning(t("comment_required", lang))
            else:
                try:
                    store.override(call_id, crit, new, principal.username, comment.strip())
                except StoreError as e:  # e.g. re-scored meanwhile without that criterion
                    st.error(str(e))
                    return
                # shown after the rerun (which redraws the criteria and the score): a message written
                # here would vanish with it
                message = f"{t('saved', lang)} {crit}: {t('result_' + new, lang)}"
                st.session_state[f"override_saved::{call_id}"] = message
                st.rerun()


def _dispute_form(store, principal, call_id: str, evaluation, lang: str) -> None:
    with st.form(f"dispute-{call_id}"):
        st.markdown(f"**{t('dispute', lang)}**")
        ids = [c.id for c in evaluation.criteria if c.result in ("pass", "fail")]
        crit = st.selectbox(t("criterion", lang), ids, key="dispute_criterion", placeholder=t("choose_one", lang))
        comment = st.text_area(t("comment", lang), key="dispute_comment")
        if st.form_submit_button(t("save", lang)):
            if not comment.strip():
                st.warning(t("comment_required", lang))
            elif any(d.criterion_id == crit and d.raised_by == principal.username
                     for d in store.disputes("open", call_id)):
                st.error(t("dispute_already_open", lang))
            else:
                try:
                    store.open_dispute(call_id, crit, comment.strip(), principal.username)
                except StoreError as e:  # the same dispute sent twice at once: one line
                    st.error(str(e))
                else:
                    st.success(t("dispute_sent", lang))


def _metrics(store, call, lang: str) -> None:
    data = store.load_metrics(call.call_id)
    if not data:
        return
    st.subheader(t("metrics", lang))
    flat = {k: v for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    cols = st.columns(4)
    for i, (k, v) in enumerate(sorted(flat.items())[:16]):
        label = t(f"m_{k}", lang) if f"m_{k}" in TEXTS else k.replace("_", " ")
        cols[i % 4].metric(label, f"{v:.2f}" if isinstance(v, float) else v)
    nested = {k: v for k, v in data.items() if isinstance(v, (dict, list))}
    if nested:
        with st.expander(t("details_json", lang)):
            st.json(nested, expanded=False)


def _history(store, call_id: str, lang: str) -> None:
    reviews = store.reviews(call_id)
    history = store.evaluation_history(call_id)
    with st.expander(f"{t('reviews', lang)} ({len(reviews)}) · {t('history', lang)} ({len(history)})"):
        for r in reviews:
            carried = (f" ({t('carried_over', lang, version=md_escape(r.carried_from_version))})"
                       if r.carried_from_id else "")
            st.markdown(f"{r.created_at:%Y-%m-%d %H:%M} · {md_escape(r.reviewer)}: {md_escape(r.criterion_id)} "
                        f"{r.old_result} → {r.new_result} — {md_escape(r.comment)}{carried}")
        for ev in history:
            st.markdown(f"{ev.created_at:%Y-%m-%d %H:%M} · {md_escape(ev.rubric)} {md_escape(ev.rubric_version)} · "
                     f"{'-' if ev.score is None else round(ev.score, 1)}"
                        f"{' · ' + t('current_version', lang) if ev.is_current else ''}")
