"""QA lead: rubric editor (validation errors inline with line numbers, preview on stored calls,
publish = new version + background re-scoring) and calibration (auto vs human reviews)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...errors import QAError
from ...store import queries as q
from ...store.rescoring import rescore_progress
from .. import jobs
from ..app import context, guard
from ..i18n import t


def _rescore_job(store, name: str, version: str):
    def work(job: jobs.Job) -> None:
        from ...ingest import rescore

        job.total = rescore_progress(store, name, version)[1]
        # calls of the other rubrics are on their current version already and are left alone
        report = rescore(store, progress=False, username=job.owner)
        job.done = job.total
        job.failed = report.failed
        job.messages += [f"{cid}: {reason}" for cid, reason in report.failures[:20]]

    return work


def render_editor() -> None:
    """The rubric editor: a form view (criterion fields, phrase lists per language) and the YAML
    beside it, both editing one draft; validation inline, live preview of the calls whose result
    changes, publish (the agreement gate of ``qa.learning.publish``) and background re-scoring."""
    from ...learning.publish import PublishRefused, preview, publish_rubric
    from ...rubric import list_rubrics, load_rubric, validate_rubric_text

    store, principal, lang = context()
    guard(principal, "edit_rubric")
    st.title(t("page_rubrics", lang))
    names = list_rubrics()
    if not names:
        st.info(t("no_calls", lang))
        return
    name = st.selectbox(t("rubric", lang), names, key="rubric_name")
    current = load_rubric(name)
    with open(current.path, encoding="utf-8") as fh:
        current_text = fh.read()
    st.caption(f"{name} · {t('version', lang)} {current.version} · {current.path}")
    key = f"rubric_text::{name}"
    if key not in st.session_state:
        st.session_state[key] = current_text
    recent, _ = q.call_list(store, q.CallFilters(call_type=name), sort="-started_at", page=1, page_size=200)
    ids = [r["call_id"] for r in recent]
    chosen = st.multiselect(t("preview_calls", lang), ids, default=ids[:10], key=f"preview_calls::{name}",
                            placeholder=t("choose_options", lang))

    form_tab, yaml_tab = st.tabs([t("form_view", lang), t("yaml_view", lang)])
    with yaml_tab:
        text = st.text_area("YAML", key=key, height=420)
        errors = validate_rubric_text(text, f"{name}.yaml")
        if errors:
            st.error("\n".join(f"- {t('line', lang)} {e.line or '?'}: {e.message}" for e in errors))
        else:
            st.success(t("valid", lang), icon=":material/check_circle:")
    with form_tab:
        _rubric_form(name, key, current, current_text, chosen, lang, store, principal, errors)

    st.subheader(t("preview", lang))
    if st.button(t("preview", lang), key="preview_btn", disabled=bool(errors) or not chosen,
                 icon=":material/preview:"):
        rows = preview(store, text, chosen, name)
        # a preview shows stored calls' results under a draft: who looked at which calls is audited
        store.audit("rubric_preview", principal.username, None,
                    {"rubric": name, "calls": list(chosen), "n_calls": len(chosen)})
        df = pd.DataFrame([{"call_id": r.call_id, "old": r.old_score, "new": r.new_score, "delta": r.delta,
                            "flips": ", ".join(f"{c}: {a}→{b}" for c, a, b in r.flips)} for r in rows])
        cc = st.column_config
        st.dataframe(df, hide_index=True, column_config={
            "call_id": cc.TextColumn(t("call_id", lang)), "old": cc.NumberColumn(t("old_score", lang)),
            "new": cc.NumberColumn(t("new_score", lang)), "delta": cc.NumberColumn(t("delta", lang)),
            "flips": cc.TextColumn(t("flips", lang))})
        n_flips = sum(len(r.flips) for r in rows)
        st.caption(f"{t('flips', lang)}: {n_flips}")

    if st.button(t("publish", lang), key="publish_btn", disabled=bool(errors), type="primary",
                 icon=":material/publish:"):
        try:
            rub, gate = publish_rubric(store, name, text, principal.username)
        except (PublishRefused, QAError) as e:
            st.error(str(e))
        else:
            st.success(t("published", lang, version=rub.version) + (f" ({gate.message})" if gate else ""))
            job = jobs.start("rescore", principal.username, _rescore_job(store, name, str(rub.version)))
            st.session_state["rescore_job"] = (job.id, name, str(rub.version))
    job_id, job_rubric, job_version = st.session_state.get("rescore_job", ("", "", ""))
    job = jobs.get(job_id)
    if job is not None:
        done, total = rescore_progress(store, job_rubric, job_version)
        if job.status != "running":
            done = total
        st.progress(done / total if total else 1.0, text=t("job_progress", lang, done=done, total=total))
        if job.status == "error":
            st.error("; ".join(job.messages))
        elif job.status == "running":
            st.button(t("refresh", lang), key="refresh_rescore", icon=":material/refresh:")


def _form_edit(name: str, text_key: str, current_version: str, edit: str, widget_key: str, convert=None) -> None:
    """A form widget's callback: apply its new value to the draft YAML (before the next run, so
    the YAML tab shows it too); a refused edit leaves the draft alone and says why."""
    from ...errors import RubricError
    from ..rubric_form import apply_edit

    value = st.session_state.get(widget_key)
    args = convert(value) if convert is not None else (value,)
    try:
        st.session_state[text_key] = apply_edit(st.session_state[text_key], name, current_version, edit, *args)
    except RubricError as e:
        st.session_state["_rf_refused"] = str(e)


def _rubric_form(name, text_key, current, current_text, chosen, lang, store, principal, errors) -> None:
    """The form view of the draft: one criterion's fields and its phrase lists per language, the
    changes in words, and the live preview of the calls whose result changes."""
    import hashlib

    from ...errors import RubricError
    from ...rubric.editing import RubricDocument
    from ..i18n import UI_LANGUAGES
    from ..rubric_form import changed_phrases, preview_changes
    from .common import md_escape, result_label

    text = st.session_state[text_key]
    try:
        doc = RubricDocument.from_text(text, f"{name}.yaml")
        cids = doc.criterion_ids()
    except RubricError:
        st.warning(t("rf_broken_yaml", lang), icon=":material/warning:")
        return
    refused = st.session_state.pop("_rf_refused", None)
    if refused:
        st.error(t("rf_refused", lang, reason=refused), icon=":material/block:")
    rev = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]  # widgets start again from each new draft
    version = str(current.version)

    def cb(edit: str, wkey: str, convert=None) -> dict:
        return {"on_change": _form_edit, "args": (name, text_key, version, edit, wkey, convert)}

    c0, c1 = st.columns([3, 1])
    cid = c0.selectbox(t("criterion", lang), cids, key=f"rf_crit::{name}", placeholder=t("choose_one", lang),
                       format_func=lambda c: f"{c} — {doc.criterion(c).title or ''}")
    vkey = f"rf_version::{name}::{rev}"
    c1.text_input(t("rf_version", lang), value=doc.version or "", key=vkey, **cb("set_version", vkey))
    form = doc.criterion(cid)
    here = doc.file_label
    inherited = sorted({f for f in form.defined_in.values() if f and f != here})
    if inherited:
        st.caption(t("rf_inherited", lang, file=", ".join(inherited), here=here))
    c1, c2, c3 = st.columns([3, 1, 2])
    k = f"rf_title::{name}::{cid}::{rev}"
    c1.text_input(t("rf_title", lang), value=str(form.title or ""), key=k, **cb("set_title", k, lambda v: (cid, v)))
    k = f"rf_weight::{name}::{cid}::{rev}"
    c2.number_input(t("rf_weight", lang), min_value=0.0, step=0.5, value=float(form.weight or 1),
                    key=k, **cb("set_weight", k, lambda v: (cid, int(v) if float(v).is_integer() else float(v))))
    choices = doc.applicability_choices(cid, lang)
    labels = [label for label, _ in choices]
    current_label = next((label for label, v in choices if _same_rule(v, form.applicability)), labels[0])
    k = f"rf_when::{name}::{cid}::{rev}"
    by_label = dict(choices)
    c3.selectbox(t("rf_applicability", lang), labels, index=labels.index(current_label), key=k,
                 **cb("set_applicability", k, lambda v: (cid, by_label[v])))
    k = f"rf_critical::{name}::{cid}::{rev}"
    st.toggle(t("rf_critical", lang), value=bool(form.critical), key=k, **cb("set_critical", k, lambda v: (cid, v)))

    st.markdown(f"**{t('rf_phrases', lang)}**")
    lists = doc.phrase_lists(cid)
    if not lists:
        st.caption(t("rf_no_phrases", lang))
    else:
        st.caption(t("rf_phrases_help", lang))
    for coll, per_lang in lists.items():
        info = doc.collection(coll)
        with st.container(border=True):
            st.markdown(f"`@{coll}` · " + md_escape(t("rf_used_by", lang, ids=", ".join(info.used_by)))
                        + " · " + md_escape(t("rf_defined_in", lang, file=info.defined_in)))
            for lg, tab in zip(per_lang, st.tabs([UI_LANGUAGES[lg] for lg in per_lang])):
                old = per_lang[lg]
                k = f"rf_phrases::{name}::{coll}::{lg}::{rev}"
                with tab:
                    st.multiselect(f"@{coll} · {UI_LANGUAGES[lg]}", old, default=old, key=k,
                                   accept_new_options=True, placeholder=t("rf_add_phrase", lang),
                                   label_visibility="collapsed",
                                   **cb("set_phrases", k, lambda v, coll=coll, lg=lg, old=old:
                                        (coll, lg, changed_phrases(old, v))))

    st.markdown(f"**{t('rf_changes', lang)}**")
    before = RubricDocument.from_text(current_text, f"{name}.yaml")
    lines = doc.diff_summary(before, lang=lang)
    st.markdown("\n".join(f"- {md_escape(x)}" for x in lines) if lines else t("rf_no_changes", lang))

    if not lines or errors or not chosen:
        return
    st.markdown(f"**{t('rf_live_preview', lang)}**")
    cache = st.session_state.setdefault("_rf_preview", {})
    pkey = (name, rev, tuple(chosen))
    if pkey not in cache:
        try:
            cache.clear()
            cache[pkey] = preview_changes(store, current, text, list(chosen), name)
        except RubricError as e:
            st.error(str(e))
            return
        store.audit("rubric_preview", principal.username, None,
                    {"rubric": name, "calls": list(chosen), "n_calls": len(chosen), "view": "form"})
    changes = cache[pkey]
    changed = [c for c in changes if c.flips]
    st.caption(t("rf_n_changed", lang, n=len(changed), total=len(changes)))
    for c in changed:
        with st.container(border=True, key=f"rf_change_{c.call_id}"):
            delta = "" if c.delta is None else f" ({c.delta:+.1f})"
            st.markdown(f"**{md_escape(c.call_id)}** · {t('score', lang)} "
                        f"{'-' if c.old_score is None else f'{c.old_score:.0f}'} → "
                        f"{'-' if c.new_score is None else f'{c.new_score:.0f}'}{delta}")
            for f in c.flips:
                old_r = result_label(f["old"], lang) if f["old"] in ("pass", "fail", "na") else "-"
                ev = []
                for side, texts in ((t("rf_before", lang), f["before"]), (t("rf_after", lang), f["after"])):
                    shown = "; ".join(f"«{md_escape(x[:120])}»" for x in texts) or t("rf_no_evidence", lang)
                    ev.append(f"{side}: {shown}")
                st.markdown(f"- **{md_escape(f['criterion'])}** ({md_escape(f['title'])}): {old_r} → "
                            f"{result_label(f['new'], lang)}  \n  " + " · ".join(ev))


def _same_rule(a, b) -> bool:
    from ...rubric.yamlrt import same as _same

    return _same(a, b)


def render_calibration() -> None:
    """The calibration page: tool vs human reviews per criterion (accuracy, kappa, confusion,
    disagreements)."""
    from ...learning.calibration import from_store

    store, principal, lang = context()
    guard(principal, "calibration")
    st.title(t("page_calibration", lang))
    report = from_store(store)
    if not report.criteria:
        st.info(t("no_reviews", lang))
        return
    from ...learning.intervals import format_interval

    macro_ci = report.macro_kappa_ci  # also each criterion's kappa_ci
    st.caption(f"{report.n_calls} · {t('accuracy', lang)} {report.macro_accuracy or 0:.1%} · "
               f"{t('kappa', lang)} {report.macro_kappa if report.macro_kappa is not None else '-'} "
               f"({t('interval95', lang)} {format_interval(macro_ci)}) · {t('interval_note', lang)}")
    iv = t("interval95", lang)
    st.dataframe(pd.DataFrame([{t("criterion", lang): c.criterion, "n": c.n, t("accuracy", lang): c.accuracy,
                                f"{t('accuracy', lang)} {iv}": format_interval(c.accuracy_ci, True),
                                t("kappa", lang): c.kappa, f"{t('kappa', lang)} {iv}": format_interval(c.kappa_ci)}
                               for c in report.criteria]), hide_index=True)
    crit = st.selectbox(t("criterion", lang), [c.criterion for c in report.criteria], key="cal_crit",
                        placeholder=t("choose_one", lang))
    c = next(c for c in report.criteria if c.criterion == crit)
    st.markdown(f"**{t('confusion', lang)}**")
    st.dataframe(pd.DataFrame(c.confusion).T)
    if c.disagreements:
        st.dataframe(pd.DataFrame([{t("call_id", lang): d.call_id, t("human", lang): d.human, t("tool", lang): d.tool,
                                    t("evidence", lang): (d.evidence[0]["text"] if d.evidence else d.feedback)}
                                   for d in c.disagreements]), hide_index=True)
