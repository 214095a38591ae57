"""Dashboard privacy and audit checks of issue 14 with Streamlit's AppTest on a real SQLite store
and real recordings: the redacted copy is what every role hears (the original only for an admin,
audited), stored paths outside the data directory and paths a transcript names are refused,
"not found" and "not yours" look the same, one call_open per opened call per session, duplicate
disputes refused on screen, downloads and rubric previews audited."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from qa.model import Transcript
from qa.store import CallRecord, open_store
from qa.store.synthetic import populate

pytestmark = pytest.mark.security

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app_streamlit.py")
SAMPLES = ROOT / "samples"
PASSWORD = "secret-pass-1"


BEACON = "![beacon](http://evil.example/b.png) [clic](http://evil.example/x) <img src=x> :red[rosso]"


def _record(call_id: str, agent_id: str, original: Path | None, redacted: Path | None, extra: dict | None = None,
            first_line: str | None = None):
    """A call as `qa ingest` stores a recording: the real sample transcript scored by the real
    rubric, its text redacted, and the paths of the original and of the redacted copy."""
    from qa.redact import redact_transcript
    from qa.rubric import score_transcript

    t = Transcript.load(SAMPLES / "transcripts" / "DEMO-IT-01.json")
    t.call_id = call_id
    t.metadata["agent_id"] = agent_id
    t.extra.update(extra or {})
    if first_line is not None:
        t.segments[0].text = first_line
    ev = score_transcript(t)
    stored, spans = redact_transcript(t)
    return CallRecord(checksum=hashlib.sha256(call_id.encode()).hexdigest(), transcript=stored, evaluation=ev,
                      audio_path=str(original) if original else None,
                      redacted_audio_path=str(redacted) if redacted else None, file_name=f"{call_id}.m4a",
                      redacted=True, redaction_spans=spans), spans


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(store, paths): synthetic history plus real calls whose audio is a real sample recording
    (original) and its real redacted copy (qa.redact.redact_audio) in the data directory."""
    from qa.redact import redact_audio

    base = tmp_path_factory.mktemp("sec")
    data = base / "data"
    outside = base / "incoming"  # where recordings arrive, outside the data directory
    (data / "recordings").mkdir(parents=True)
    (data / "uploads" / "batch").mkdir(parents=True)
    outside.mkdir()
    url = f"sqlite:///{data / 'sec.db'}"
    paths = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_DATA_DIR", str(data))
        mp.setenv("QA_DATABASE_URL", url)
        st = open_store(url)
        with st.session() as s:
            populate(s, 40, seed=3, n_agents=3, days=30)
        # 1. kept original (an upload, inside the data dir) + redacted copy
        original = data / "uploads" / "batch" / "call_it_01.m4a"
        shutil.copyfile(SAMPLES / "call_it_01.m4a", original)
        rec, spans = _record("SEC-RED", "A001", original, None)
        assert spans, "the sample call has personal data to silence"
        redacted = data / "recordings" / "sec-red.redacted.wav"
        redact_audio(original, redacted, spans)
        rec.redacted_audio_path = str(redacted)
        st.add_call(rec)
        # 2. ingested with --no-redact: only the original, outside the data dir
        outside_orig = outside / "call_it_02.ogg"
        shutil.copyfile(SAMPLES / "call_it_02.ogg", outside_orig)
        st.add_call(_record("SEC-NORED", "A001", outside_orig, None)[0])
        # 3. a transcript JSON naming a server file as its redacted audio
        st.add_call(_record("SEC-JSON", "A001", None, None, {"redacted_audio": "/etc/passwd"})[0])
        # 4. a stored path that is a symbolic link in the data dir pointing outside it
        link = data / "recordings" / "link.redacted.wav"
        os.symlink(outside_orig, link)
        st.add_call(_record("SEC-LINK", "A001", None, link)[0])
        # 5. a stored path naming the database file itself
        st.add_call(_record("SEC-DB", "A001", None, data / "sec.db")[0])
        # 6. a stored path outside the data directory (any server file)
        st.add_call(_record("SEC-OUT", "A001", None, outside_orig)[0])
        # 7. Markdown in a transcript line and in the agent's name
        md = _record("SEC-MD", "A001", None, None, first_line="Buongiorno " + BEACON)[0]
        md.transcript.metadata["agent_name"] = BEACON
        st.add_call(md)
        for user, role, agent, lang in (("sup", "supervisor", None, "it"), ("op1", "operator", "A001", "it"),
                                        ("op2", "operator", "A002", "it"), ("lead", "qa_lead", None, "it"),
                                        ("admin", "admin", None, "it")):
            st.create_user(user, PASSWORD, role, agent_id=agent, language=lang)
        paths.update(original=original, redacted=redacted, outside=outside_orig, data=data)
        yield st, paths
        st.close()


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=90)


def _login(at: AppTest, user: str) -> AppTest:
    from .apptest_login import login

    return login(at, user, PASSWORD)


def _open(user: str, call_id: str) -> AppTest:
    at = _login(_app(), user)
    at.switch_page("qa/dashboard/pages/call.py")
    at.query_params["call"] = call_id
    at.run()
    assert not at.exception, at.exception
    return at


def _audio_urls(at: AppTest) -> list[str]:
    return [a.proto.url for a in at.get("audio")]


def _media_id(data: bytes, mime: str) -> str:
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    return _calculate_file_id(data, mime)


def _entries(store, action: str, call_id: str | None = None, user: str | None = None) -> list:
    return [a for a in store.audit_log(call_id=call_id, limit=5000)
            if a.action == action and (user is None or a.username == user)]


# ------------------------------------------------------------------------------------- audio
@pytest.mark.parametrize("user", ["sup", "op1", "lead", "admin"])
def test_every_role_hears_the_redacted_copy(env, user):
    store, p = env
    at = _open(user, "SEC-RED")
    [url] = _audio_urls(at)
    assert _media_id(p["redacted"].read_bytes(), "audio/wav") in url
    assert _media_id(p["original"].read_bytes(), "audio/mp4") not in url
    plays = _entries(store, "audio_play", "SEC-RED", user)
    assert plays and plays[0].details["variant"] == "redacted" and plays[0].details["file"] == p["redacted"].name
    assert not [b for b in at.get("download_button") if "original" in b.proto.label.lower()]


@pytest.mark.parametrize("user", ["sup", "op1", "lead"])
def test_only_an_admin_can_switch_to_the_original(env, user):
    at = _open(user, "SEC-RED")
    assert not at.toggle, "no way to the original for " + user


def test_admin_plays_and_downloads_the_original_and_both_are_audited(env):
    store, p = env
    at = _open("admin", "SEC-RED")
    at.toggle(key="original::SEC-RED").set_value(True).run()
    assert not at.exception, at.exception
    [url] = _audio_urls(at)
    assert _media_id(p["original"].read_bytes(), "audio/mp4") in url
    plays = _entries(store, "audio_play", "SEC-RED", "admin")
    assert [e.details["variant"] for e in plays].count("original") == 1
    [dl] = [b for b in at.get("download_button") if b.key == "dl_original::SEC-RED"]
    assert dl.proto.label == "Scarica l'originale"
    before = len(_entries(store, "audio_download", "SEC-RED", "admin"))
    dl.click()
    at.run()
    after = _entries(store, "audio_download", "SEC-RED", "admin")
    assert len(after) == before + 1 and after[0].details["variant"] == "original"


@pytest.mark.parametrize("user", ["sup", "op1"])
def test_without_a_redacted_copy_non_admins_get_no_audio_and_one_line(env, user):
    at = _open(user, "SEC-NORED")
    assert not _audio_urls(at)
    assert "Nessuna copia oscurata di questa registrazione" in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("call_id, why", [("SEC-LINK", "symbolic link out of the data dir"),
                                          ("SEC-DB", "the database file"), ("SEC-OUT", "outside the data dir")])
def test_stored_paths_outside_the_data_dir_or_not_audio_are_refused_and_audited(env, call_id, why):
    store, _ = env
    at = _open("sup", call_id)
    assert not _audio_urls(at), why
    assert [w.value for w in at.warning] == ["Registrazione rifiutata: il file non è nella cartella dei dati."]
    [entry] = _entries(store, "audio_refused", call_id, "sup")
    assert "\n" not in entry.details["reason"] and entry.details["reason"].startswith(("refused", "file"))


def test_admin_original_outside_the_data_dir_is_refused_too(env):
    store, _ = env
    at = _open("admin", "SEC-NORED")
    at.toggle(key="original::SEC-NORED").set_value(True).run()
    assert not _audio_urls(at)
    assert any("cartella dei dati" in w.value for w in at.warning)
    assert _entries(store, "audio_refused", "SEC-NORED", "admin")


def test_a_transcript_cannot_name_the_audio_file(env):
    store, _ = env
    at = _open("sup", "SEC-JSON")
    assert not _audio_urls(at)
    assert "Il file audio indicato dalla trascrizione non viene riprodotto." in [c.value for c in at.caption]
    [entry] = _entries(store, "audio_refused", "SEC-JSON", "sup")
    assert entry.details["path"] == "/etc/passwd"


# ------------------------------------------------------------------- not found vs not yours
def _body(at: AppTest) -> list[tuple[str, str]]:
    """What the page shows in its main area, element by element (type, text)."""
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "error", "warning", "info", "success",
                 "metric", "expander", "button", "text", "json", "dataframe", "audio"):
        for el in at.main.get(kind):
            out.append((kind, str(getattr(el, "value", None) or getattr(el, "label", None) or el.proto)))
    return out


@pytest.mark.parametrize("page", ["call", "calls"])  # the call page, and a deep link ?call= on the list page
def test_not_yours_looks_exactly_like_not_found(env, page):
    store, _ = env
    from qa.store import queries as q

    colleague = q.call_list(store, q.CallFilters(agent_id="A002"), page_size=1)[0][0]["call_id"]
    shown = {}
    for call_id in (colleague, "NO-SUCH-CALL-42"):
        at = _login(_app(), "op1")
        at.switch_page(f"qa/dashboard/pages/{page}.py")
        at.query_params["call"] = call_id
        at.run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == ["Chiamata non trovata."]
        assert not at.metric and not at.get("audio") and not at.expander and not at.title
        text = json.dumps(_body(at))
        assert call_id not in text
        shown[call_id] = text
    assert shown[colleague] == shown["NO-SUCH-CALL-42"]
    assert _entries(store, "call_open_denied", colleague, "op1")  # the audit log still tells them apart
    assert _entries(store, "call_open_missing", "NO-SUCH-CALL-42", "op1")


# ----------------------------------------------------------------------------- call_open
def test_one_call_open_per_opened_call_per_session(env):
    store, _ = env
    before = len(_entries(store, "call_open", "SEC-RED", "lead"))
    plays = len(_entries(store, "audio_play", "SEC-RED", "lead"))  # earlier tests of this worker count too
    at = _open("lead", "SEC-RED")
    for b in [b for b in at.button if (b.key or "").startswith("seg-")][:4]:  # four reruns
        b.click()
        at.run()
    at.run()
    assert not at.exception, at.exception
    assert len(_entries(store, "call_open", "SEC-RED", "lead")) == before + 1
    assert len(_entries(store, "audio_play", "SEC-RED", "lead")) == plays + 1
    _open("lead", "SEC-RED")  # a new session (a new sign-in) opens it again: one more
    assert len(_entries(store, "call_open", "SEC-RED", "lead")) == before + 2


# ------------------------------------------------------------------------------ disputes
def test_a_second_identical_dispute_is_refused_on_screen(env):
    store, _ = env
    from qa.store import queries as q

    call_id = q.call_list(store, q.CallFilters(agent_id="A001", search="SYN"), page_size=1)[0][0]["call_id"]
    ev = store.load_evaluation(call_id)
    crit = next(c for c in ev.criteria if c.result in ("pass", "fail")).id
    at = _open("op1", call_id)
    for attempt in range(2):
        at.selectbox(key="dispute_criterion").select(crit)
        at.text_area(key="dispute_comment").input(f"contesto ({attempt})")
        next(b for b in at.button if "Salva" in b.label).click()
        at.run()
        assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "Hai già una contestazione aperta su questo criterio: attendi la decisione."]
    mine = [d for d in store.disputes("open", call_id) if d.raised_by == "op1" and d.criterion_id == crit]
    assert len(mine) == 1


# ------------------------------------------------------------------- audited downloads
def test_call_list_downloads_are_audited_one_entry_per_click(env):
    store, _ = env
    at = _login(_app(), "sup")
    at.button(key="prepare_export").click()
    at.run()
    before = len(_entries(store, "export", user="sup"))
    for key in ("dl_csv", "dl_xlsx", "dl_csv"):
        next(b for b in at.get("download_button") if b.key == key).click()
        at.run()
        assert not at.exception, at.exception
    entries = _entries(store, "export", user="sup")[: len(_entries(store, "export", user="sup")) - before]
    assert sorted(e.details["format"] for e in entries) == ["csv", "csv", "xlsx"]
    assert all(e.details["rows"] == store.count_calls() for e in entries)


def test_coaching_report_download_is_audited(env):
    store, _ = env
    at = _login(_app(), "op1")
    at.switch_page("qa/dashboard/pages/progress.py").run()
    assert not at.exception, at.exception
    before = len(_entries(store, "export", user="op1"))
    [report] = at.get("download_button")
    report.click()
    at.run()
    [entry] = _entries(store, "export", user="op1")[: len(_entries(store, "export", user="op1")) - before]
    assert entry.details["format"] == "html" and entry.details["agent_id"] == "A001"


def test_rubric_preview_is_audited(env):
    store, _ = env
    at = _login(_app(), "lead")
    at.switch_page("qa/dashboard/pages/rubrics.py").run()
    assert not at.exception, at.exception
    before = len(_entries(store, "rubric_preview", user="lead"))
    chosen = at.multiselect(key=f"preview_calls::{at.selectbox(key='rubric_name').value}").value
    at.button(key="preview_btn").click()
    at.run()
    assert not at.exception, at.exception
    new = _entries(store, "rubric_preview", user="lead")
    assert len(new) == before + 1 and new[0].details["calls"] == list(chosen)


# ------------------------------------------------------------- reviews across a rubric change
def test_carried_over_review_and_a_dispute_accepted_after_a_rescore_are_shown(env):
    """An override, then a rescore (a real re-score of the stored transcript under a new rubric
    version), then a dispute accepted in the supervisor's queue: the call page shows both on the
    current evaluation, the override as carried over from the old version."""
    from qa.rubric import score_transcript

    store, _ = env
    from qa.store import queries as q

    call_id = q.call_list(store, q.CallFilters(agent_id="A001", search="SEC-RED"), page_size=1)[0][0]["call_id"]
    ev = store.load_evaluation(call_id)
    a, b = [c for c in ev.criteria if c.result in ("pass", "fail")][:2]
    flip = {"pass": "fail", "fail": "pass"}
    store.override(call_id, a.id, flip[a.result], "sup", "riascoltata")
    d = store.open_dispute(call_id, b.id, "l'ho fatto", "op1")
    new = score_transcript(store.load_transcript(call_id), "assistenza")
    new.rubric_version = "2099-09-09.1"
    store.add_evaluation(call_id, new, username="lead")

    sup = _login(_app(), "sup")
    sup.switch_page("qa/dashboard/pages/disputes.py").run()
    sup.button(key=f"da-{d.id}").click()
    sup.run()
    assert not sup.exception, sup.exception
    now = store.load_evaluation(call_id)
    assert now.rubric_version == "2099-09-09.1"
    assert now.result(a.id).result == flip[a.result] and now.result(b.id).result == flip[b.result]

    at = _open("sup", call_id)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("modificato da sup il ") and c.endswith(
        f"riportato dalla versione {ev.rubric_version} della rubrica") for c in captions), captions
    assert any(f"contestazione {d.id} accolta" in c and "riportato" not in c for c in captions), captions
    assert at.metric[0].value == f"{now.score:.0f}"


# ---------------------------------------------------------------------- Markdown injection
def _unescaped(value: str) -> list[str]:
    """Markdown constructs that would render as an image, a link, HTML or a directive."""
    import re

    return re.findall(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(|(?<!\\)<img|(?<!\\):red(?<!\\)\[", value)


def test_transcript_text_and_names_are_shown_literally(env):
    at = _open("sup", "SEC-MD")
    shown = [m.value for m in at.markdown if "beacon" in m.value]
    assert len(shown) >= 2, "the agent's name and the transcript line are shown"
    for value in shown:
        assert not _unescaped(value), value
        assert "http\\://evil.example/b.png" in value  # shown as text, not fetched


def test_a_dispute_comment_cannot_put_an_image_on_the_supervisors_screen(env):
    store, _ = env
    from qa.store import queries as q

    call_id = q.call_list(store, q.CallFilters(agent_id="A001", search="SYN"), page=2, page_size=1)[0][0]["call_id"]
    crit = next(c for c in store.load_evaluation(call_id).criteria if c.result in ("pass", "fail")).id
    store.open_dispute(call_id, crit, "guarda qui " + BEACON, "op1")
    sup = _login(_app(), "sup")
    sup.switch_page("qa/dashboard/pages/disputes.py").run()
    assert not sup.exception, sup.exception
    [comment] = [m.value for m in sup.markdown if "beacon" in m.value]
    assert not _unescaped(comment), comment
