"""Upload recordings (+ optional metadata CSV) from the browser; processed in the background
(transcribe, score, store) with progress; refused files are listed with their reason."""

from __future__ import annotations

import streamlit as st

from ...config import data_dir
from ...errors import QAError
from .. import jobs
from ..app import context, guard
from ..i18n import t
from ..uploads import AUDIO_EXTENSIONS, new_batch_dir, save_upload


def _ingest_job(paths, metadata_path):
    def work(job: jobs.Job) -> None:
        from ...ingest import ingest_paths

        job.total = len(paths)

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        report = ingest_paths([str(p) for p in paths], metadata=str(metadata_path) if metadata_path else None,
                              progress=progress)
        job.failed = len(report.failed)
        for path, reason in report.failed:
            job.messages.append(f"{path.rsplit('/', 1)[-1]}: {reason}")

    return work


def render() -> None:
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
            job = jobs.start("ingest", principal.username, _ingest_job(saved, meta_path))
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
