"""Dashboard page logic with Streamlit's AppTest on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from qa.store import open_store
from qa.store.synthetic import populate

APP = str(Path(__file__).resolve().parents[1] / "app_streamlit.py")
PASSWORD = "secret-pass-1"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dash")
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_DATA_DIR", str(tmp_path))
        mp.setenv("QA_DATABASE_URL", url)
        st = open_store(url)
        with st.session() as s:
            populate(s, 300, seed=1, n_agents=6, days=60)
        st.create_user("sup", PASSWORD, "supervisor", display_name="Sara Supervisor")
        st.create_user("op1", PASSWORD, "operator", agent_id="A001", display_name="Op One")
        st.create_user("op2", PASSWORD, "operator", agent_id="A002", display_name="Op Two")
        st.create_user("lead", PASSWORD, "qa_lead")
        st.create_user("admin", PASSWORD, "admin", language="de")
        yield st
        st.close()


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def _login(at: AppTest, user: str, password: str = PASSWORD) -> AppTest:
    from .apptest_login import login

    return login(at, user, password)


def _shows_only_the_sign_in_prompt(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.text_input and not at.dataframe and not at.metric and not at.get("download_button")
    assert any("/auth/login" in m.value for m in at.markdown), [m.value for m in at.markdown]
    assert not any("Connesso come" in c.value for c in at.sidebar.caption)


def _calls_of(store, agent_id):
    from qa.store import queries as q

    rows, _ = q.call_list(store, q.CallFilters(agent_id=agent_id), page_size=1000)
    return [r["call_id"] for r in rows]


@pytest.mark.security
def test_anonymous_visitor_sees_only_the_sign_in_prompt(store):
    at = _app().run()
    _shows_only_the_sign_in_prompt(at)


def test_supervisor_sees_all_calls(store):
    at = _login(_app(), "sup")
    assert not at.exception, at.exception
    assert at.dataframe, "call list shown"
    caption = " ".join(c.value for c in at.caption)
    assert "300 chiamate" in caption


def test_operator_sees_only_own_calls(store):
    at = _login(_app(), "op1")
    assert not at.exception, at.exception
    df = at.dataframe[0].value
    own = set(_calls_of(store, "A001"))
    assert set(df["call_id"]) <= own and len(df) > 0


def test_operator_is_refused_a_colleagues_call_and_it_is_audited(store):
    other = _calls_of(store, "A002")[0]
    at = _login(_app(), "op1")
    at.query_params["call"] = other
    at.run()
    # the same words as for an id that does not exist: nothing tells the operator it exists
    assert [e.value for e in at.error] == ["Chiamata non trovata."], [e.value for e in at.error]
    assert not at.metric  # nothing of the call is shown
    entries = [(a.action, a.call_id, a.username) for a in store.audit_log(call_id=other)]
    assert ("call_open_denied", other, "op1") in entries


@pytest.mark.security
def test_forged_session_state_and_cookies_are_ignored(store):
    from qa.dashboard import session

    at = _app()
    at.session_state["_qa_auth"] = {"username": "sup", "issued": 1.0, "last_seen": 9e18, "sig": "forged"}
    at.session_state["_principal"] = "sup"
    at.session_state["_qa_bound"] = "x"
    _shows_only_the_sign_in_prompt(at.run())
    for forged in ("sup", session.sign_session("never-issued"), "abc.def"):
        at = _app()
        at.session_state[session.TEST_COOKIE_KEY] = forged
        _shows_only_the_sign_in_prompt(at.run())


@pytest.mark.security
def test_session_times_out(store, monkeypatch):
    monkeypatch.setenv("QA_SESSION_TIMEOUT_MIN", "0")
    at = _login(_app(), "sup")  # the first run after login already finds the session idle for too long
    assert any("scaduta" in w.value for w in at.warning)
    _shows_only_the_sign_in_prompt(at)
    assert "session_timeout" in [a.action for a in store.audit_log()]


@pytest.mark.security
def test_logout_clears_everything_the_session_held(store):
    """Issue 14: a prepared export (download buttons with every agent's calls) must not survive
    the sign-out; the same browser session then shows nothing of the previous user."""
    from qa.dashboard import session

    at = _login(_app(), "sup")
    shown = set(at.dataframe[0].value["call_id"])
    at.button(key="prepare_export").click().run()
    assert not at.exception, at.exception
    assert len(at.get("download_button")) == 2 and "export" in at.session_state
    cookie = at.session_state[session.TEST_COOKIE_KEY]
    at.sidebar.button(key="logout").click().run()
    assert any("Sei uscito" in i.value for i in at.info)
    for key in ("export", "_principal", "_pages", "ui_lang", "page", session.TEST_COOKIE_KEY):
        assert key not in at.session_state, key
    at.run()
    _shows_only_the_sign_in_prompt(at)
    text = " ".join(str(e.value) for e in (*at.markdown, *at.title, *at.caption, *at.info))
    assert not any(cid in text for cid in shown) and "Sara" not in text
    assert session.resolve(store, cookie) == (None, "revoked")
    assert ("logout", "sup") in [(a.action, a.username) for a in store.audit_log(limit=20)]


@pytest.mark.security
def test_another_session_in_the_same_browser_session_starts_from_nothing(store):
    from .apptest_login import sign_in

    at = _login(_app(), "sup")
    at.button(key="prepare_export").click().run()
    assert "export" in at.session_state
    sign_in(at, "op1", PASSWORD)  # the cookie now names another session (another user)
    at.run()
    assert not at.exception, at.exception
    assert "export" not in at.session_state and not at.get("download_button")
    assert set(at.dataframe[0].value["call_id"]) <= set(_calls_of(store, "A001"))


@pytest.mark.security
@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_password_change_or_deactivation_signs_an_open_browser_out(store, change):
    name = f"tmp_{change}"
    store.create_user(name, PASSWORD, "supervisor")
    at = _login(_app(), name)
    assert at.dataframe
    if change == "password":
        store.update_user(name, password="another-pass-2", updated_by="admin")
    else:
        store.update_user(name, active=False, updated_by="admin")
    at.run()
    _shows_only_the_sign_in_prompt(at)


@pytest.mark.security
def test_admins_see_a_banner_while_demo_accounts_exist(store):
    store.create_user("demo_sup", "ascolto-demo", "supervisor", demo=True, created_by="demo")
    try:
        at = _login(_app(), "admin")  # German UI
        assert any("demo_sup" in w.value and "Demo" in w.value for w in at.warning), [w.value for w in at.warning]
        at = _login(_app(), "sup")
        assert not any("demo_sup" in w.value for w in at.warning)
    finally:
        store.update_user("demo_sup", active=False)
    at = _login(_app(), "admin")
    assert not any("demo_sup" in w.value for w in at.warning)


@pytest.mark.security
def test_an_uncaught_error_shows_no_details(tmp_path, monkeypatch):
    """client.showErrorDetails = none (set by app_streamlit.py): a page that raises shows
    Streamlit's generic message, without the exception's type, message or traceback."""
    import sqlite3

    from qa.store import open_store as _open

    url = f"sqlite:///{tmp_path / 'broken.db'}"
    monkeypatch.setenv("QA_DATABASE_URL", url)
    st_ = _open(url)
    with st_.session() as s:
        populate(s, 5, seed=2, n_agents=2, days=5)
    st_.create_user("sup", PASSWORD, "supervisor")
    st_.close()
    at = _login(_app(), "sup")
    assert at.dataframe and not at.exception
    with sqlite3.connect(tmp_path / "broken.db") as c:  # the call list's table goes away
        c.execute("ALTER TABLE calls RENAME TO calls_gone")
    at.run()
    assert at.exception, "the page failed"
    [exc] = at.exception
    assert "redacted" in exc.message and "calls" not in exc.message
    assert not exc.stack_trace and not exc.proto.type


def _open(at: AppTest, call_id: str) -> AppTest:
    at.query_params["call"] = call_id
    return at.run()


def test_supervisor_opens_a_call_jumps_to_evidence_and_overrides(store):
    call_id = _calls_of(store, "A003")[0]
    at = _open(_login(_app(), "sup"), call_id)
    assert not at.exception, at.exception
    assert at.title[0].value.endswith(call_id)
    ev = store.load_evaluation(call_id)
    assert ev is not None
    # every criterion is listed with its result
    labels = " ".join(e.label for e in at.expander)
    for c in ev.criteria:
        assert (c.title or c.id) in labels
    # jump to a transcript line: the audio position (session) moves there
    seg_buttons = [b for b in at.button if (b.key or "").startswith("seg-")]
    assert seg_buttons
    seg_buttons[-1].click()
    at.run()
    t = store.load_transcript(call_id)
    assert at.session_state[f"seek::{call_id}"] == pytest.approx(t.segments[-1].start)
    # override a criterion: kept as a review, score recomputed
    target = next(c for c in ev.criteria if c.result in ("pass", "fail"))
    new = "fail" if target.result == "pass" else "pass"
    at.selectbox(key="override_criterion").select(target.id)
    at.radio(key="override_result").set_value(new)
    at.text_area(key="override_comment").input("ascoltata: il criterio era " + new)
    next(b for b in at.button if "Salva" in b.label).click()
    at.run()
    assert not at.exception, at.exception
    [review] = [r for r in store.reviews(call_id) if r.criterion_id == target.id]
    assert (review.old_result, review.new_result, review.reviewer) == (target.result, new, "sup")
    after = store.load_evaluation(call_id)
    assert after.result(target.id).result == new
    assert after.score != ev.score or ev.score in (0.0, 100.0)
    assert ("call_open", "sup") in [(a.action, a.username) for a in store.audit_log(call_id=call_id)]


def test_operator_disputes_a_result_which_lands_in_the_supervisor_queue(store):
    call_id = _calls_of(store, "A001")[1]
    at = _open(_login(_app(), "op1"), call_id)
    assert not at.exception, at.exception
    ev = store.load_evaluation(call_id)
    target = next(c for c in ev.criteria if c.result in ("pass", "fail"))
    at.selectbox(key="dispute_criterion").select(target.id)
    at.text_area(key="dispute_comment").input("ho riassunto alla fine della chiamata")
    next(b for b in at.button if "Salva" in b.label).click()
    at.run()
    assert any("inviata" in s.value for s in at.success)
    disputes = [d for d in store.disputes("open") if d.raised_by == "op1"]
    assert disputes and disputes[-1].criterion_id == target.id
    sup = _login(_app(), "sup")
    sup.switch_page("qa/dashboard/pages/disputes.py").run()
    assert not sup.exception, sup.exception
    assert any(call_id in m.value for m in sup.markdown)


@pytest.mark.parametrize("page, user, marker", [
    ("trends", "sup", "Tendenze"),
    ("compliance", "sup", "Coda conformità"),
    ("review", "sup", "Da verificare"),
    ("sample", "sup", "Campione casuale"),
    ("rubrics", "lead", "Editor rubriche"),
    ("calibration", "lead", "Calibrazione"),
    ("users", "admin", "Benutzer"),  # admin's UI language is German
    ("progress", "op1", "Il mio andamento"),
    ("upload", "sup", "Carica registrazioni"),
])
def test_each_page_renders_for_its_role(store, page, user, marker):
    at = _login(_app(), user)
    at.switch_page(f"qa/dashboard/pages/{page}.py").run()
    assert not at.exception, at.exception
    assert at.title and at.title[0].value.startswith(marker), [t.value for t in at.title]


@pytest.mark.parametrize("page", ["trends", "compliance", "review", "users", "rubrics", "disputes"])
def test_operator_cannot_open_other_pages(store, page):
    """Pages an operator may not use are not even registered for their session."""
    at = _login(_app(), "op1")
    with pytest.raises(ValueError, match="Known pages"):
        at.switch_page(f"qa/dashboard/pages/{page}.py")


def test_supervisor_downloads_an_operators_coaching_report(store):
    at = _login(_app(), "sup")
    at.switch_page("qa/dashboard/pages/trends.py").run()
    at.multiselect(key="tr_agent").select("A003")
    at.run()
    assert not at.exception, at.exception
    buttons = [b for b in at.get("download_button") if "A003" in b.proto.label]
    assert buttons, "a coaching report download for the chosen operator"
