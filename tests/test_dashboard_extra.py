"""Dashboard parts not covered by test_dashboard_apptest.py: upload safety and the background
ingest job, downloads (xlsx/csv, operator report), rubric editor, calibration page, i18n."""

from __future__ import annotations

import html as h
import io
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from qa.errors import QAError
from qa.store import open_store
from qa.store import queries as q
from qa.store.synthetic import populate

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app_streamlit.py")
PASSWORD = "secret-pass-1"
EVAL_AUDIO = Path("/work/shared/eval/audio")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A store of its own (publishing a rubric re-scores it) and QA_DATA_DIR in a tmp dir, so the
    bundled rubriche/ are never touched."""
    tmp_path = tmp_path_factory.mktemp("dash_extra")
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_DATA_DIR", str(tmp_path))
        mp.setenv("QA_DATABASE_URL", url)
        mp.delenv("QA_RUBRICS_DIR", raising=False)
        mp.delenv("QA_GOLD_LABELS", raising=False)
        mp.delenv("QA_GOLD_TRANSCRIPTS", raising=False)
        st = open_store(url)
        with st.session() as s:
            populate(s, 60, seed=3, n_agents=4, days=30)
        st.create_user("sup", PASSWORD, "supervisor")
        st.create_user("lead", PASSWORD, "qa_lead")
        yield st, tmp_path
        st.close()


@pytest.fixture(scope="module")
def store(env):
    return env[0]


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def _login(at: AppTest, user: str, password: str = PASSWORD) -> AppTest:
    from .apptest_login import login

    return login(at, user, password)


def _calls_of(store, agent_id):
    rows, _ = q.call_list(store, q.CallFilters(agent_id=agent_id), page_size=1000)
    return [r["call_id"] for r in rows]


# ---------------------------------------------------------------- 1. uploads

HOSTILE = ["../../etc/passwd.wav", "..\\..\\x.mp3", "/abs/path/a.wav", ".hidden.wav", "ça va.flac",
           "a\x00b.wav", "C:\\Windows\\system32\\evil.ogg", "...wav.wav", "x" * 400 + ".wav",
           "é" * 300 + "z.opus", "../" * 50 + "deep.m4a"]


@pytest.mark.parametrize("name", HOSTILE)
def test_saved_upload_stays_inside_the_batch_dir(tmp_path, name):
    from qa.dashboard.uploads import safe_name, save_upload

    batch = tmp_path / "batch"
    batch.mkdir()
    clean = safe_name(name)
    assert "/" not in clean and "\\" not in clean and "\x00" not in clean
    assert not clean.startswith(".") and ".." not in clean and clean.isascii()
    p = save_upload(batch, name, b"RIFF-data")
    assert p.parent == batch.resolve()
    assert p.read_bytes() == b"RIFF-data"
    assert p.suffix == Path(name.replace("\\", "/")).suffix  # extension kept, even for long names
    assert [x.name for x in tmp_path.rglob("*") if x.is_file()] == [p.name]


@pytest.mark.parametrize("name", ["", "...", "/", "\x00"])
def test_empty_names_are_refused_as_not_audio(tmp_path, name):
    from qa.dashboard.uploads import safe_name, save_upload

    assert safe_name(name).startswith("upload-")
    with pytest.raises(QAError, match="not a supported file type"):
        save_upload(tmp_path, name, b"x")
    assert not any(tmp_path.iterdir())


def test_wrong_extension_and_empty_files_are_refused_with_one_line(tmp_path):
    from qa.dashboard.uploads import save_upload

    for name, data, why in [("x.txt", b"hello", "not a supported file type"), ("notes.wav.exe", b"MZ", "not a supported"),
                            ("empty.wav", b"", "empty file")]:
        with pytest.raises(QAError) as ei:
            save_upload(tmp_path, name, data)
        msg = str(ei.value)
        assert why in msg and "\n" not in msg, msg
    assert not any(tmp_path.iterdir())
    # a CSV is allowed only where asked for
    assert save_upload(tmp_path, "meta.csv", b"call_id\n", allowed=(".csv",)).name == "meta.csv"


def test_duplicate_names_get_a_suffix(tmp_path):
    from qa.dashboard.uploads import save_upload

    a = save_upload(tmp_path, "call.wav", b"1")
    b = save_upload(tmp_path, "../call.wav", b"2")
    c = save_upload(tmp_path, "call.wav", b"3")
    assert [a.name, b.name, c.name] == ["call.wav", "call-1.wav", "call-2.wav"]
    assert [p.read_bytes() for p in (a, b, c)] == [b"1", b"2", b"3"]


def test_new_batch_dirs_are_distinct_and_under_uploads(tmp_path):
    from qa.dashboard.uploads import new_batch_dir

    a, b = new_batch_dir(tmp_path), new_batch_dir(tmp_path)
    assert a != b and a.parent == b.parent == tmp_path / "uploads"


def _wait(job, timeout=900):
    end = time.monotonic() + timeout
    while job.status == "running" and time.monotonic() < end:
        time.sleep(0.1)  # the job ends within a tenth of a second of this seeing it
    assert job.status != "running", "ingest job did not finish"


@pytest.mark.slow
def test_upload_job_ingests_a_real_call_and_reports_a_broken_file(store, tmp_path):
    from qa.dashboard import jobs
    from qa.dashboard.uploads import new_batch_dir, save_upload
    from qa.dashboard.views.upload import _ingest_job

    batch = new_batch_dir(tmp_path)
    good = save_upload(batch, "../stereo_diarization.wav", (EVAL_AUDIO / "stereo_diarization.wav").read_bytes())
    bad = save_upload(batch, "rotto.wav", b"this is a text file, not audio\n" * 20)
    before = {r["call_id"] for r in q.call_list(store, q.CallFilters(), page_size=10_000)[0]}
    job = jobs.start("ingest", "sup", _ingest_job(store, [good, bad], None))
    assert jobs.get(job.id) is job and job in jobs.jobs("ingest")
    _wait(job)
    assert job.status == "done", job.messages
    assert (job.total, job.done, job.failed) == (2, 2, 1), job.messages
    [msg] = job.messages
    assert msg.startswith("rotto.wav: ") and "\n" not in msg and len(msg) > len("rotto.wav: ")
    after = {r["call_id"] for r in q.call_list(store, q.CallFilters(), page_size=10_000)[0]}
    new = after - before
    assert len(new) == 1, new
    [call_id] = new
    assert "rotto" not in call_id
    ev = store.load_evaluation(call_id)
    assert ev is not None and ev.criteria
    t = store.load_transcript(call_id)
    assert t is not None and t.segments and any(s.text.strip() for s in t.segments)


@pytest.mark.slow
def test_upload_page_end_to_end(env):
    """Through the page: a real recording, a text file named .wav and an empty .wav; the empty
    one is refused at once, the broken one by the background job, the real call is stored.
    (Streamlit's uploader itself rejects extensions outside its type list, e.g. .txt.)"""
    from qa.dashboard import jobs
    from qa.dashboard.i18n import t

    store, data = env
    before = {r["call_id"] for r in q.call_list(store, q.CallFilters(), page_size=10_000)[0]}
    at = _login(_app(), "sup")
    at.switch_page("qa/dashboard/pages/upload.py").run()
    assert not at.exception, at.exception
    at.file_uploader(key="upload_files").set_value([
        ("../../leopard_test_it.wav", (EVAL_AUDIO / "leopard_test_it.wav").read_bytes(), "audio/wav"),
        ("guasto.wav", b"not audio at all\n" * 50, "audio/wav"),
        ("vuoto.wav", b"", "audio/wav"),
    ])
    next(b for b in at.button if b.label == t("process", "it")).click()
    at.run()
    assert not at.exception, at.exception
    refused = [e.value for e in at.error]
    assert any(e.startswith(t("refused_file", "it")) and "vuoto.wav" in e and "empty file" in e
               for e in refused), refused
    job = jobs.get(at.session_state["upload_job"])
    assert job is not None and job.kind == "ingest" and job.owner == "sup"
    _wait(job)
    assert job.total == 2
    at.run()
    assert not at.exception, at.exception
    assert job.status == "done" and (job.done, job.failed) == (2, 1), job.messages
    [msg] = job.messages
    assert msg.startswith("guasto.wav: ") and "\n" not in msg and len(msg) > len("guasto.wav: ")
    assert any("guasto.wav" in e.value for e in at.error)
    assert any(s.value == "1/2 chiamate elaborate e salvate" for s in at.success), [s.value for s in at.success]
    # the saved files stayed in one batch dir under QA_DATA_DIR/uploads
    [entry] = [a for a in store.audit_log(limit=20) if a.action == "upload" and a.username == "sup"]
    assert entry.details["files"] == ["leopard_test_it.wav", "guasto.wav"]
    saved = sorted(p.relative_to(data).parts for p in (data / "uploads").rglob("*") if p.is_file())
    assert [p[-1] for p in saved] == ["guasto.wav", "leopard_test_it.wav"] and all(len(p) == 3 for p in saved)
    new = {r["call_id"] for r in q.call_list(store, q.CallFilters(), page_size=10_000)[0]} - before
    assert len(new) == 1, new
    [call_id] = new
    ev = store.load_evaluation(call_id)
    assert ev is not None and ev.criteria
    t_ = store.load_transcript(call_id)
    assert t_ is not None and any(s.text.strip() for s in t_.segments)


# ---------------------------------------------------------------- 2. downloads

def test_excel_and_csv_exports_match_the_store_query(store):
    from openpyxl import load_workbook

    from qa.dashboard.views.calls import all_rows, to_excel

    f = q.CallFilters(agent_id="A001")
    rows = all_rows(store, f, "-started_at")
    expected, total = q.call_list(store, f, sort="-started_at", page_size=10_000)
    assert len(rows) == total == len(expected) > 0
    assert [r["call_id"] for r in rows] == [r["call_id"] for r in expected]
    df = pd.DataFrame(rows)
    data = to_excel(df)
    assert data[:2] == b"PK"  # a zip container
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["chiamate"]
    sheet = list(wb["chiamate"].values)
    assert list(sheet[0]) == list(df.columns)
    assert len(sheet) - 1 == len(rows)
    back = pd.read_excel(io.BytesIO(data))
    assert list(back["call_id"]) == [r["call_id"] for r in rows]
    if "score" in df.columns:
        assert back["score"].round(3).tolist() == pd.Series([r["score"] for r in rows]).round(3).tolist()
    csv = pd.read_csv(io.StringIO(df.to_csv(index=False)))
    assert list(csv.columns) == list(df.columns) and list(csv["call_id"]) == list(back["call_id"])
    # limit is honoured
    assert len(all_rows(store, q.CallFilters(), "-started_at", limit=7)) == 7


@pytest.mark.parametrize("lang", ["it", "de", "fr", "en"])
def test_operator_report_has_only_that_agents_calls(store, lang):
    from qa.dashboard.i18n import t
    from qa.dashboard.report import operator_report_html

    html = operator_report_html(store, "A001", lang)
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</body></html>")
    assert html.count("<table>") == html.count("</table>") and html.count("<ul>") == html.count("</ul>")
    assert "(A001)" in html
    for key in ("report", "feedback", "pass_rate_criterion"):
        assert t(key, lang) in html
    own = set(_calls_of(store, "A001"))
    others = set(_calls_of(store, "A002")) | set(_calls_of(store, "A003"))
    shown = set(re.findall(r"<h3>([^ <]+) ·", html))
    assert shown and shown <= own
    assert not any(cid in html for cid in others)
    # the failed criteria's feedback is there
    cid = sorted(shown)[0]
    ev = store.load_evaluation(cid)
    fails = [c for c in ev.criteria if c.result == "fail"]
    assert fails
    for c in fails:
        assert h.escape(c.feedback) in html


def test_report_ui_strings_differ_by_language(store):
    from qa.dashboard.report import operator_report_html

    pages = {lang: operator_report_html(store, "A001", lang) for lang in ("it", "de", "fr", "en")}
    titles = {lang: re.search(r"<title>(.*?)</title>", p).group(1) for lang, p in pages.items()}
    assert len(set(titles.values())) == 4, titles


# ---------------------------------------------------------------- 3. rubric editor

def _rubric_page(store) -> AppTest:
    at = _login(_app(), "lead")
    at.switch_page("qa/dashboard/pages/rubrics.py").run()
    assert not at.exception, at.exception
    return at


def test_rubric_editor_shows_line_of_a_broken_yaml_and_disables_publish(store):
    at = _rubric_page(store)
    name = at.selectbox(key="rubric_name").value
    key = f"rubric_text::{name}"
    text = at.text_area(key=key).value
    assert not at.button(key="publish_btn").disabled
    lines = text.splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.strip() == "weight: 1")
    lines[i] = lines[i].replace("weight: 1", "weight: 0")
    at.text_area(key=key).input("\n".join(lines) + "\n").run()
    assert not at.exception, at.exception
    errs = " ".join(e.value for e in at.error)
    assert f"riga {i + 1}" in errs, errs  # "line" in the Italian interface
    assert at.button(key="publish_btn").disabled
    # an unknown key at a known line
    lines = text.splitlines()
    j = next(n for n, ln in enumerate(lines) if ln.startswith("title:"))
    lines.insert(j + 1, "colore_preferito: blu")
    at.text_area(key=key).input("\n".join(lines) + "\n").run()
    errs = " ".join(e.value for e in at.error)
    assert f"riga {j + 2}" in errs and "colore_preferito" in errs, errs
    assert at.button(key="publish_btn").disabled


def test_rubric_editor_publishes_a_new_version(env):
    store, data = env
    bundled = {p.name: p.read_bytes() for p in (ROOT / "rubriche").glob("*.yaml")}
    at = _rubric_page(store)
    name = at.selectbox(key="rubric_name").value
    key = f"rubric_text::{name}"
    text = at.text_area(key=key).value
    old = re.search(r"^version:\s*(\S+)", text, re.M).group(1)
    new_version = "2099-01-01.1"
    at.text_area(key=key).input(re.sub(r"^version:.*$", f"version: {new_version}", text, count=1, flags=re.M)).run()
    assert not at.error, [e.value for e in at.error]
    assert not at.button(key="publish_btn").disabled
    at.button(key="publish_btn").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any(new_version in s.value for s in at.success), [s.value for s in at.success]
    versions = [str(v.version) for v in store.rubric_versions(name)]
    assert new_version in versions and old in versions
    published = data / "rubriche" / f"{name}.yaml"
    assert f"version: {new_version}" in published.read_text(encoding="utf-8")
    # the bundled rubrics are untouched
    assert {p.name: p.read_bytes() for p in (ROOT / "rubriche").glob("*.yaml")} == bundled
    # publishing the same version again is refused
    at.button(key="publish_btn").click().run()
    assert any("already" in e.value or "current" in e.value for e in at.error), [e.value for e in at.error]
    # let the background re-scoring finish before the store is closed
    from qa.dashboard import jobs
    for j in jobs.jobs("rescore"):
        _wait(j, timeout=600)


# ---------------------------------------------------------------- 4. calibration

def test_calibration_page_shows_reviews_per_criterion(store):
    at = _login(_app(), "lead")
    at.switch_page("qa/dashboard/pages/calibration.py").run()
    assert not at.exception, at.exception
    calls = _calls_of(store, "A004")[:4]
    reviewed = {}
    for k, cid in enumerate(calls):
        ev = store.load_evaluation(cid)
        c = next(c for c in ev.criteria if c.result in ("pass", "fail"))
        # half agree with the tool, half disagree
        new = c.result if k % 2 == 0 else ("fail" if c.result == "pass" else "pass")
        store.override(cid, c.id, new, "lead", "ascoltata")
        reviewed.setdefault(c.id, []).append(new == c.result)
    at = _login(_app(), "lead")
    at.switch_page("qa/dashboard/pages/calibration.py").run()
    assert not at.exception, at.exception
    df = at.dataframe[0].value
    from qa.dashboard.i18n import t

    acc_col = t("accuracy", "it")
    crit_col = t("criterion", "it")
    assert {crit_col, "n", acc_col} <= set(df.columns), list(df.columns)
    by = df.set_index(crit_col)
    # the synthetic store has no reviews of its own: the table holds exactly these
    assert set(by.index) == set(reviewed)
    for crit, agree in reviewed.items():
        assert by.loc[crit, "n"] == len(agree)
        assert by.loc[crit, acc_col] == pytest.approx(sum(agree) / len(agree), abs=5e-5)  # shown to 4 places
        # with the accuracy, its 95 % Wilson interval (qa.learning.intervals): wide on one or two reviews
        from qa.learning.intervals import accuracy_interval, format_interval

        assert by.loc[crit, f"{acc_col} {t('interval95', 'it')}"] == format_interval(
            accuracy_interval(sum(agree), len(agree)), True)
    assert any(t("interval95", "it") in c.value for c in at.caption)


# ---------------------------------------------------------------- 5. i18n

def test_every_ui_text_has_all_four_languages():
    from qa.dashboard.i18n import TEXTS, UI_LANGUAGES

    missing = {k: sorted(set(UI_LANGUAGES) - set(v)) for k, v in TEXTS.items() if set(v) != set(UI_LANGUAGES)}
    assert not missing
    empty = [(k, l) for k, v in TEXTS.items() for l, s in v.items() if not s.strip()]
    assert not empty
    # placeholders are the same in every language
    for k, v in TEXTS.items():
        ph = {l: sorted(re.findall(r"\{(\w+)\}", s)) for l, s in v.items()}
        assert len({tuple(p) for p in ph.values()}) == 1, (k, ph)


def test_switching_language_to_german_translates_titles(store):
    from qa.dashboard.i18n import t

    at = _login(_app(), "lead")
    assert at.title[0].value.startswith(t("page_calls", "it"))
    at.selectbox(key="ui_lang").select("de").run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith(t("page_calls", "de")), [x.value for x in at.title]
    at.switch_page("qa/dashboard/pages/calibration.py").run()
    assert at.title[0].value.startswith("Kalibrierung")
    at.switch_page("qa/dashboard/pages/rubrics.py").run()
    assert at.title[0].value.startswith("Rubrik-Editor")
