"""Upload recordings (+ optional metadata CSV) from the browser; processed in the background
(transcribe, score, store) with progress; refused files are listed with their reason."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ...config import data_dir, max_upload_mb
from ...errors import QAError
from .. import jobs
from ..app import context, guard
from ..i18n import t
from ..uploads import UPLOAD_EXTENSIONS, ingest_uploads, new_batch_dir, save_upload


_LIMIT = {"it": "Al massimo {mb} MB per file.", "de": "Höchstens {mb} MB pro Datei.",
          "fr": "Au plus {mb} Mo par fichier.", "en": "At most {mb} MB per file."}


def _ingest_job(store, paths, metadata_path, keep_originals: bool | None = None):
    """Ingest the uploaded files one by one (so progress and refusals are per file); with
    ``QA_KEEP_ORIGINALS=0`` each uploaded original is deleted once its call is stored
    (``qa.dashboard.uploads.ingest_uploads``)."""

    def work(job: jobs.Job) -> None:
        job.total = len(paths)

        def on_file(path, messages):
            if messages:
                job.failed += 1
                job.messages.extend(messages)
            job.done += 1

        ingest_uploads(store, list(paths), metadata_path, keep_originals=keep_originals, on_file=on_file)

    return work


def render() -> None:
    """The upload page: the form, then the background job's progress and refusals."""
    store, principal, lang = context()
    guard(principal, "upload")
    st.title(t("page_upload", lang))
    try:
        limit_mb = max_upload_mb()
    except QAError as e:
        st.error(str(e))
        return
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(t("upload_files", lang), type=[e.lstrip(".") for e in UPLOAD_EXTENSIONS],
                                 accept_multiple_files=True, key="upload_files", max_upload_size=limit_mb,
                                 help=_LIMIT[lang if lang in _LIMIT else "it"].format(mb=limit_mb))
        meta = st.file_uploader(t("upload_metadata", lang), type=["csv"], key="upload_meta", max_upload_size=limit_mb)
        submitted = st.form_submit_button(t("process", lang))
    if submitted and files:
        batch = new_batch_dir(data_dir())
        saved, refused = [], []
        for f in files:
            try:
                saved.append(save_upload(batch, f.name, f))  # streamed to disk, size-capped
            except QAError as e:
                refused.append(str(e))
        meta_path = None
        if meta is not None:
            try:
                meta_path = save_upload(batch, meta.name, meta, allowed=(".csv",))
            except QAError as e:
                refused.append(str(e))
        for r in refused:
            st.error(f"{t('refused_file', lang)}: {r}")
        if saved:
            store.audit("upload", principal.username, None, {"files": [p.name for p in saved]})
            job = jobs.start("ingest", principal.username, _ingest_job(store, saved, meta_path))
            job.total = job.total or len(saved)  # the progress bar never shows 0/0
            st.session_state["upload_job"] = job.id
        else:  # nothing to process: the batch folder (and a metadata CSV alone) is not kept
            if meta_path is not None:
                meta_path.unlink(missing_ok=True)
            try:
                batch.rmdir()
            except OSError:
                pass
    job = jobs.get(st.session_state.get("upload_job", ""))
    if job is not None:
        st.progress(job.fraction, text=t("job_progress", lang, done=job.done, total=job.total))
        for m in job.messages:
            st.error(f"{t('refused_file', lang)}: {m}")
        if job.status == "running":
            st.button(t("refresh", lang), icon=":material/refresh:", key="refresh_upload")
        elif job.status == "done":
            st.success(t("upload_stored", lang, done=job.done - job.failed, total=job.total), icon=":material/check_circle:")
