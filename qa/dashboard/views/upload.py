"""Upload recordings (+ optional metadata CSV) from the browser; processed in the background
(transcribe, score, store) with progress; refused files are listed with their reason."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ...config import data_dir
from ...errors import QAError
from .. import jobs
from ..app import context, guard
from ..i18n import t
from ..uploads import AUDIO_EXTENSIONS, new_batch_dir, save_upload


def _ingest_job(store, paths, metadata_path):
    """Ingest the uploaded files one by one (so progress and refusals are per file)."""

    def work(job: jobs.Job) -> None:
        from ...ingest import ingest

        job.total = len(paths)
        for p in paths:
            try:
                report = ingest([str(p)], store, metadata_csv=str(metadata_path) if metadata_path else None,
                                workers=1, progress=False)
                for path, reason in report.failures:
                    job.failed += 1
                    job.messages.append(f"{Path(path).name}: {reason}")
            except QAError as e:
                job.failed += 1
                job.messages.append(f"{p.name}: {e.message}")
            job.done += 1

    return work


def render() -> None:
    """The upload page: the form, then the background job's progress and refusals."""
    store, principal, lang = context()
    guard(principal, "upload")
    st.title(t("page_upload", lang))
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(t("upload_files", lang), type=[e.lstrip(".") for e in AUDIO_EXTENSIONS],
                                 accept_multiple_files=True, key="upload_files")
        meta = st.file_uploader(t("upload_metadata", lang), type=["csv"], key="upload_meta")
        submitted = st.form_submit_button(t("process", lang))
    if submitted and files:
        batch = new_batch_dir(data_dir())
        saved, refused = [], []
        for f in files:
            try:
                saved.append(save_upload(batch, f.name, f.getvalue()))
            except QAError as e:
                refused.append(str(e))
        meta_path = None
        if meta is not None:
            try:
                meta_path = save_upload(batch, meta.name, meta.getvalue(), allowed=(".csv",))
            except QAError as e:
                refused.append(str(e))
        for r in refused:
            st.error(f"{t('refused_file', lang)}: {r}")
        if saved:
            store.audit("upload", principal.username, None, {"files": [p.name for p in saved]})
            job = jobs.start("ingest", principal.username, _ingest_job(store, saved, meta_path))
            job.total = job.total or len(saved)  # the progress bar never shows 0/0
            st.session_state["upload_job"] = job.id
    job = jobs.get(st.session_state.get("upload_job", ""))
    if job is not None:
        st.progress(job.fraction, text=t("job_progress", lang, done=job.done, total=job.total))
        for m in job.messages:
            st.error(f"{t('refused_file', lang)}: {m}")
        if job.status == "running":
            st.button("↻", key="refresh_upload")
        elif job.status == "done":
            st.success(f"{job.done - job.failed}/{job.total} ✓")
