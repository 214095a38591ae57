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
    """The rubric editor: YAML with inline validation, preview on stored calls, publish and
    background re-scoring with progress."""
    from ...publish import PublishRefused, preview, publish_rubric
    from ...rubric import list_rubrics, load_rubric, validate_rubric_text

    store, principal, lang = context()
    guard(principal, "edit_rubric")
    st.title(t("page_rubrics", lang))
    names = list_rubrics()
    if not names:
        st.info("-")
        return
    name = st.selectbox(t("rubric", lang), names, key="rubric_name")
    current = load_rubric(name)
    st.caption(f"{name} · version {current.version} · {current.path}")
    key = f"rubric_text::{name}"
    if key not in st.session_state:
        with open(current.path, encoding="utf-8") as fh:
            st.session_state[key] = fh.read()
    text = st.text_area("YAML", key=key, height=420)
    errors = validate_rubric_text(text, f"{name}.yaml")
    if errors:
        st.error("\n".join(f"- line {e.line or '?'}: {e.message}" for e in errors))
    else:
        st.success(t("valid", lang))

    st.subheader(t("preview", lang))
    recent, _ = q.call_list(store, q.CallFilters(call_type=name), sort="-started_at", page=1, page_size=200)
    ids = [r["call_id"] for r in recent]
    chosen = st.multiselect(t("page_calls", lang), ids, default=ids[:10], key="preview_calls")
    if st.button(t("preview", lang), key="preview_btn", disabled=bool(errors) or not chosen):
        rows = preview(store, text, chosen, name)
        # a preview shows stored calls' results under a draft: who looked at which calls is audited
        store.audit("rubric_preview", principal.username, None,
                    {"rubric": name, "calls": list(chosen), "n_calls": len(chosen)})
        df = pd.DataFrame([{"call_id": r.call_id, "old": r.old_score, "new": r.new_score, "delta": r.delta,
                            t("flips", lang): ", ".join(f"{c}: {a}→{b}" for c, a, b in r.flips)} for r in rows])
        st.dataframe(df, hide_index=True)
        n_flips = sum(len(r.flips) for r in rows)
        st.caption(f"{t('flips', lang)}: {n_flips}")

    if st.button(t("publish", lang), key="publish_btn", disabled=bool(errors), type="primary"):
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
            st.button("↻", key="refresh_rescore")


def render_calibration() -> None:
    """The calibration page: tool vs human reviews per criterion (accuracy, kappa, confusion,
    disagreements)."""
    from ...calibration import from_store

    store, principal, lang = context()
    guard(principal, "calibration")
    st.title(t("page_calibration", lang))
    report = from_store(store)
    if not report.criteria:
        st.info(t("no_reviews", lang))
        return
    st.caption(f"{report.n_calls} · {t('accuracy', lang)} {report.macro_accuracy or 0:.1%} · "
               f"{t('kappa', lang)} {report.macro_kappa if report.macro_kappa is not None else '-'}")
    st.dataframe(pd.DataFrame([{"criterion": c.criterion, "n": c.n, t("accuracy", lang): c.accuracy,
                                t("kappa", lang): c.kappa} for c in report.criteria]), hide_index=True)
    crit = st.selectbox(t("criterion", lang), [c.criterion for c in report.criteria], key="cal_crit")
    c = next(c for c in report.criteria if c.criterion == crit)
    st.markdown("**confusion** (rows: human, columns: tool)")
    st.dataframe(pd.DataFrame(c.confusion).T)
    if c.disagreements:
        st.dataframe(pd.DataFrame([{"call_id": d.call_id, "human": d.human, "tool": d.tool,
                                    t("evidence", lang): (d.evidence[0]["text"] if d.evidence else d.feedback)}
                                   for d in c.disagreements]), hide_index=True)
