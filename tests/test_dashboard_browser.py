"""End-to-end dashboard tests in a real headless Chromium (Debian's /usr/bin/chromium, driven
by Playwright; no browser is ever downloaded) against a real `qa serve` subprocess on a real
SQLite store.

The store holds three sample calls of samples/ ingested by ``qa.ingest.ingest`` from their
reference transcripts (samples/transcripts/*.json, time-aligned with the recordings) with
samples/calls.csv, so evaluations, evidence, redaction and metrics are the real pipeline's; each
call then refers to its real recording in samples/ so the player has real audio whose positions
match the evidence. (Transcribing the recordings with Whisper instead takes minutes on the
shared CPUs; set QA_BROWSER_TRANSCRIBE=1 to do it anyway.) Plus synthetic history and users.

Signing in goes through the server-rendered /auth/login page and its HttpOnly session cookie
(qa/dashboard/web.py): reloads, deep links and new tabs of the same browser stay signed in.

Screenshots of each key step go to tests/artifacts/browser/ (gitignored).
Run: pytest -m browser tests/test_dashboard_browser.py
"""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SAMPLE_CALLS = {"DEMO-IT-01": "call_it_01.m4a", "DEMO-DE-01": "call_de_01.mp3", "DEMO-IT-02": "call_it_02.ogg"}
PASSWORDS = {"sup": "sup-pass-0001", "laura": "laura-pass-01", "stefan": "stefan-pass-1", "syn": "syn-pass-0001",
             "locky": "locky-pass-01", "lead": "lead-pass-0001"}
SCREENSHOTS = ROOT / "docs" / "screenshots"  # the README's pictures (issue 13.6), taken by the tests below
DATA_DIRS: dict[str, Path] = {}  # base URL -> the server's QA_DATA_DIR
TIMEOUT_MS = 60_000  # generous: 2 shared CPUs, first run of the app imports pandas, altair...


# ------------------------------------------------------------------------------------ fixtures
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _build_store(data_dir: Path, url: str):
    from qa.ingest import ingest
    from qa.store import open_store
    from qa.store.schema import Call
    from qa.store.synthetic import populate

    store = open_store(url)
    if os.environ.get("QA_BROWSER_TRANSCRIBE") == "1":
        inputs = [SAMPLES / f for f in SAMPLE_CALLS.values()]
    else:
        inputs = [SAMPLES / "transcripts" / f"{c}.json" for c in SAMPLE_CALLS]
    report = ingest([str(p) for p in inputs], store, metadata_csv=str(SAMPLES / "calls.csv"), workers=1,
                    progress=False)
    assert report.stored == len(SAMPLE_CALLS), report.failures
    with store.session() as s:
        for call_id, audio in SAMPLE_CALLS.items():
            if s.scalar(select(Call.audio_path).where(Call.call_id == call_id)) is None:
                s.execute(update(Call).where(Call.call_id == call_id).values(audio_path=str(SAMPLES / audio)))
    _add_redacted_copies(store, data_dir)
    with store.session() as s:
        # agents A001..A005, all before the sample calls (November 2026): those top the list's first page
        populate(s, 60, seed=5, n_agents=5, days=60, end=datetime(2026, 10, 31, 18, 0))
    store.create_user("sup", PASSWORDS["sup"], "supervisor", display_name="Sara Supervisor")
    store.create_user("laura", PASSWORDS["laura"], "operator", agent_id="A17", display_name="Laura Bernasconi")
    store.create_user("stefan", PASSWORDS["stefan"], "operator", agent_id="A31", display_name="Stefan Keller")
    store.create_user("syn", PASSWORDS["syn"], "operator", agent_id="A002", display_name="Synthetic Operator")
    store.create_user("locky", PASSWORDS["locky"], "supervisor", display_name="Locky Lockout")
    store.create_user("lead", PASSWORDS["lead"], "qa_lead", display_name="Lea Lead")
    store.create_user("demo_qa", "ascolto-demo", "qa_lead", demo=True, created_by="demo")  # `qa serve` warns
    return store


def _add_redacted_copies(store, data_dir: Path) -> None:
    """What `qa ingest` of a recording writes with redaction on (QA_KEEP_ORIGINALS=1): a copy of
    the recording with the personal-data spans of its transcript silenced (qa.redact.redact_audio),
    in the data directory's recordings/, beside the original it keeps referring to."""
    from qa.redact import redact_audio
    from qa.store.schema import Call, TranscriptRow

    (data_dir / "recordings").mkdir(exist_ok=True)
    with store.session() as s:
        rows = s.execute(select(Call.call_id, Call.audio_path, Call.redacted_audio_path, TranscriptRow.redaction_spans)
                         .join(TranscriptRow, TranscriptRow.call_pk == Call.id)
                         .where(Call.call_id.in_(list(SAMPLE_CALLS)))).all()
    for call_id, audio_path, redacted, spans in rows:
        if redacted:  # QA_BROWSER_TRANSCRIBE=1: ingest made it already
            continue
        dst = data_dir / "recordings" / f"{call_id}.redacted.wav"
        redact_audio(audio_path, dst, spans or [])
        with store.session() as s:
            s.execute(update(Call).where(Call.call_id == call_id).values(redacted_audio_path=str(dst)))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base_url, store): a store in tmp and `qa serve` on a free port; killed at teardown."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: install the Debian package chromium")
    data_dir = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{data_dir / 'qa.db'}"
    with pytest.MonkeyPatch.context() as mp:  # ingest reads QA_DATA_DIR (redacted copies, recordings)
        mp.setenv("QA_DATA_DIR", str(data_dir))
        mp.setenv("QA_DATABASE_URL", url)
        store = _build_store(data_dir, url)
    port = _free_port()
    # QA_HELDOUT_SETS empty: the publish gate (tests/test_publish.py) is off here, so that the form
    # test's deliberately harmful edit (removing "buongiorno") can be published and its YAML checked
    env = {**os.environ, "QA_DATA_DIR": str(data_dir), "QA_DATABASE_URL": url, "PYTHONUNBUFFERED": "1",
           "QA_HELDOUT_SETS": ""}
    for var in ("QA_RUBRICS_DIR", "QA_GOLD_LABELS", "QA_GOLD_TRANSCRIPTS"):  # the bundled rubrics, no gold set
        env.pop(var, None)
    log = open(data_dir / "server.log", "wb")
    # its own process group: `qa serve` starts streamlit as a child, both go at teardown
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    DATA_DIRS[base] = data_dir
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"qa serve exited with {proc.returncode}: "
                            + (data_dir / "server.log").read_text(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("qa serve did not answer /_stcore/health within 120 s")
            time.sleep(0.3)
        log.flush()
        assert "WARNING: demo accounts with the public demo password are active in this store: demo_qa" in \
            (data_dir / "server.log").read_text(errors="replace")
        yield base, store
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()
        store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context (a new Streamlit session, nobody signed in) per test; uncaught
    JavaScript errors fail the test."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="it-CH")
    ctx.set_default_timeout(TIMEOUT_MS)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.shot = lambda step: _shot(pg, request.node.name, step)
    yield pg
    ctx.close()
    assert not errors, errors


def _shot(pg, test: str, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{test}--{step}")
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# ------------------------------------------------------------------------------------- helpers
def settle(pg) -> None:
    """Wait until Streamlit has finished the current script run (the app root says so)."""
    pg.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached")


def fill_login(pg, user: str, password: str) -> None:
    """Submit the server-rendered sign-in page (qa/dashboard/web.py)."""
    pg.get_by_label("Nome utente").wait_for()
    assert "/auth/login" in pg.url
    pg.get_by_label("Nome utente").fill(user)
    pg.locator("input[type='password']").fill(password)
    pg.get_by_role("button", name="Accedi").click()


def signed_in(pg) -> None:
    pg.get_by_text(re.compile(r"^Connesso come ")).wait_for()  # the sidebar of a signed-in user
    settle(pg)


def login(pg, user: str) -> None:
    fill_login(pg, user, PASSWORDS[user])
    signed_in(pg)


def open_call_by_url(pg, base: str, user: str, call_id: str) -> None:
    """Put /call?call=<id> in the address bar; a browser without a session signs in first and
    then lands on that call."""
    pg.goto(f"{base}/call?call={call_id}")
    login(pg, user)


def wait_call_detail(pg, call_id: str) -> None:
    pg.get_by_role("heading", name=re.compile(rf"Dettaglio chiamata {re.escape(call_id)}$")).wait_for()
    settle(pg)


def list_caption_count(pg) -> int:
    cap = pg.get_by_test_id("stCaptionContainer").filter(has_text=re.compile(r"^[\d']+ chiamate$"))
    cap.wait_for()
    return int(cap.inner_text().strip().split()[0].replace("'", ""))


def open_call_options(pg) -> list[str]:
    """The options of the call list's 'Apri chiamata' selectbox (the call ids of the page shown)."""
    box = pg.get_by_test_id("stSelectbox").filter(has_text="Apri chiamata")
    box.locator("input").click()
    pg.locator("[role='option']").first.wait_for()
    options = [o.strip() for o in pg.locator("[role='option']").all_inner_texts()]
    pg.keyboard.press("Escape")
    return options


def choose(pg, container, value: str) -> None:
    """Pick ``value`` in a Streamlit selectbox (react-aria combobox): type, then click the option."""
    container.scroll_into_view_if_needed()
    inp = container.locator("input")
    inp.click()
    inp.press_sequentially(value[:6])
    pg.locator("[role='option']").filter(has_text=re.compile(rf"^{re.escape(value)}$")).click()
    assert inp.input_value() == value


def audio_state(pg) -> dict:
    return pg.evaluate("""() => { const a = document.querySelector('audio');
        return a && {currentTime: a.currentTime, duration: a.duration, readyState: a.readyState,
                     error: a.error && a.error.code, src: a.src}; }""")


def wait_audio_position(pg, seconds: float, timeout_ms: float = 30000) -> dict:
    """Streamlit's player starts at whole seconds (start_time is floored)."""
    pg.wait_for_function("t => { const a = document.querySelector('audio'); return a && a.currentTime === t; }",
                         arg=float(math.floor(seconds)), timeout=timeout_ms)
    return audio_state(pg)


def click_and_wait_audio_position(pg, button, seconds: float, tries: int = 3) -> dict:
    """Click a jump button until the player stands at ``seconds``. With two test workers on two
    cores a click can land while Streamlit is still re-rendering the page, and be lost (one run in
    four of the suite did so): a user would click again, and so does this, at most ``tries`` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(tries - 1):
        button.click()
        settle(pg)
        try:
            return wait_audio_position(pg, seconds, timeout_ms=20000)
        except PlaywrightTimeout:
            pass
    button.click()
    settle(pg)
    return wait_audio_position(pg, seconds, timeout_ms=20000)


def own_calls(store, agent_id: str) -> set[str]:
    from qa.store.schema import Call

    with store.session() as s:
        return set(s.scalars(select(Call.call_id).where(Call.agent_id == agent_id)))


def all_calls(store) -> set[str]:
    from qa.store.schema import Call

    with store.session() as s:
        return set(s.scalars(select(Call.call_id)))


# --------------------------------------------------------------------------------------- tests
def test_anonymous_visitor_sees_only_the_login_form(server, page):
    base, store = server
    for path in ("/", "/call?call=DEMO-IT-01", "/trends"):
        page.goto(base + path)
        page.get_by_label("Nome utente").wait_for()
        page.shot("login-" + (path.strip("/").split("?")[0] or "root"))
        assert page.url.startswith(base + "/auth/login")
        assert page.get_by_role("heading", name="Accesso").is_visible()
        assert page.locator("input[type='password']").count() == 1
        assert "DEMO-IT-01" not in page.inner_text("body")
        assert page.get_by_test_id("stApp").count() == 0  # not even the app's shell
        assert page.locator("audio").count() == 0
        assert page.get_by_text(re.compile("^Connesso come")).count() == 0
    # a recording or a media file is refused without a session
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(base + "/media/anything.wav", timeout=10)
    assert e.value.code == 401


@pytest.mark.security
def test_session_survives_reload_and_deep_links_and_logout_leaves_nothing(server, page):
    """Issue 13.3: F5 and a deep link in a new tab keep the user signed in; after signing out
    the same tab shows nothing of the previous user, and a reload still shows the login."""
    base, store = server
    page.goto(base + "/")
    login(page, "sup")
    cookie = next(c for c in page.context.cookies() if c["name"] == "ascolto_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert "ascolto_session" not in page.evaluate("document.cookie")  # scripts cannot read it
    total = list_caption_count(page)
    shown = open_call_options(page)
    page.locator(".st-key-prepare_export").get_by_role("button").click()  # an export with every agent's calls
    page.get_by_test_id("stDownloadButton").first.wait_for()
    settle(page)
    page.shot("export-prepared")

    page.reload()
    signed_in(page)
    assert "/auth/login" not in page.url and list_caption_count(page) == total
    page.shot("after-reload")

    tab = page.context.new_page()
    tab.goto(f"{base}/call?call=DEMO-DE-01")
    wait_call_detail(tab, "DEMO-DE-01")
    assert tab.get_by_text(re.compile(r"^Connesso come Sara Supervisor")).is_visible()
    assert tab.get_by_label("Nome utente").count() == 0
    tab.shot = page.shot
    tab.shot("deep-link-new-tab")

    page.get_by_test_id("stSidebar").get_by_role("button", name="Esci").click()
    page.wait_for_url(re.compile(r".*/auth/login\?reason=bye"))
    page.get_by_text("Sei uscito.").wait_for()
    page.shot("signed-out")

    def shows_nothing_of_sup(pg) -> None:
        assert "/auth/login" in pg.url
        pg.get_by_label("Nome utente").wait_for()
        text = pg.inner_text("body")
        assert "Sara" not in text and "Connesso come" not in text
        assert not any(cid in text for cid in [*shown, "DEMO-DE-01", "DEMO-IT-01"])
        assert pg.get_by_test_id("stDownloadButton").count() == 0 and pg.get_by_test_id("stDataFrame").count() == 0
        assert pg.locator("audio").count() == 0

    shows_nothing_of_sup(page)
    assert "ascolto_session" not in [c["name"] for c in page.context.cookies()]
    page.reload()
    shows_nothing_of_sup(page)
    page.go_back()  # the page before the sign-out comes back from the server, not from a cache
    page.get_by_label("Nome utente").wait_for()
    shows_nothing_of_sup(page)
    # the other tab's session ended too: its next load shows the login page
    tab.reload()
    shows_nothing_of_sup(tab)
    assert store.live_sessions("sup") == []
    assert ("logout", "sup") in [(a.action, a.username) for a in store.audit_log(limit=50)]


@pytest.mark.security
def test_ten_wrong_passwords_lock_the_account(server, page):
    base, store = server
    page.goto(base + "/")
    messages = set()
    for i in range(10):
        fill_login(page, "locky", f"wrong-password-{i}")
        alert = page.get_by_role("alert")
        alert.wait_for()
        messages.add(alert.inner_text())
    fill_login(page, "locky", PASSWORDS["locky"])  # the right password, during the lock
    page.get_by_role("alert").wait_for()
    messages.add(page.get_by_role("alert").inner_text())
    page.shot("locked")
    assert "/auth/login" in page.url and page.get_by_text(re.compile("^Connesso come")).count() == 0
    # one message for every failure: wrong password, and locked account alike
    assert messages == {"Accesso non riuscito: nome utente o password non validi, oppure troppi tentativi "
                        "(riprova più tardi)."}
    log = [(a.action, a.username, a.details) for a in store.audit_log(limit=100) if a.username == "locky"]
    assert sum(1 for a, _, _ in log if a == "login_failed") == 10
    [lock] = [d for a, _, d in log if a == "login_lockout"]
    assert lock["kind"] == "user" and lock["client"] == "127.0.0.1"
    assert any(a == "login_refused_locked" for a, _, _ in log)
    assert store.live_sessions("locky") == []


def test_supervisor_opens_a_call_from_the_list_and_jumps_to_evidence(server, page):
    base, store = server
    call_id = "DEMO-DE-01"
    page.goto(base + "/")
    login(page, "sup")
    assert list_caption_count(page) == len(all_calls(store))
    page.shot("list")
    choose(page, page.get_by_test_id("stSelectbox").filter(has_text="Apri chiamata"), call_id)
    page.locator(".st-key-open_call_btn").get_by_role("button").click()
    wait_call_detail(page, call_id)
    page.shot("detail")

    call = store.get_call(call_id)
    audio = audio_state(page)
    assert audio is not None and audio["error"] is None and audio["currentTime"] == 0
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")  # metadata of the real file
    assert audio_state(page)["duration"] == pytest.approx(call.duration, abs=0.5)

    # the evidence furthest into the call, so the jump is unmistakable
    ev = store.load_evaluation(call_id)
    ci, ei, evidence = max(((ci, ei, e) for ci, c in enumerate(ev.criteria) for ei, e in enumerate(c.evidence)),
                           key=lambda x: x[2].start)
    assert evidence.start >= 5
    crit = ev.criteria[ci]
    expander = page.get_by_test_id("stExpander").filter(has_text=crit.title or crit.id).first
    if not expander.locator(f".st-key-ev-{ci}-{ei}").is_visible():
        expander.locator("summary").click()
    button = expander.locator(f".st-key-ev-{ci}-{ei}").get_by_role("button")
    minutes, secs = divmod(evidence.start, 60)
    assert f"{int(minutes)}:{secs:04.1f} " in button.inner_text()
    audio = click_and_wait_audio_position(page, button, evidence.start)
    assert audio["currentTime"] == pytest.approx(evidence.start, abs=1.0)
    assert audio["error"] is None
    # the open criterion also says how often it agrees with evaluators on calls the tool never saw
    from qa.learning.reliability import criterion_reliability

    [rel] = criterion_reliability(crit.id, False, rubric_version=ev.rubric_version)
    assert f"{100 * rel['accuracy']:.0f} %" in expander.inner_text() and f"{rel['n']}" in expander.inner_text()
    page.locator("audio").scroll_into_view_if_needed()
    page.shot("evidence-jump")

    # a transcript line moves it again
    transcript = store.load_transcript(call_id)
    i, seg = next((i, s) for i, s in enumerate(transcript.segments) if abs(s.start - evidence.start) >= 3)
    click_and_wait_audio_position(page, page.locator(f".st-key-seg-{i}").get_by_role("button"), seg.start)
    page.shot("transcript-jump")
    assert ("call_open", "sup") in [(a.action, a.username) for a in store.audit_log(call_id=call_id)]


def test_supervisor_overrides_a_criterion(server, page):
    from qa.dashboard.i18n import t

    base, store = server
    call_id = "DEMO-IT-01"
    before = store.load_evaluation(call_id)
    target = next(c for c in before.criteria if c.result == "pass")
    new = "fail"
    comment = f"riascoltata: {target.id} non rispettato (browser)"

    open_call_by_url(page, base, "sup", call_id)
    wait_call_detail(page, call_id)
    score = page.get_by_test_id("stMetric").filter(has_text="Punteggio")
    assert score.get_by_test_id("stMetricValue").inner_text() == f"{before.score:.0f}"
    form = page.get_by_test_id("stForm").filter(has_text="Correggi il risultato")
    choose(page, form.get_by_test_id("stSelectbox"), target.id)
    form.get_by_test_id("stRadio").get_by_text(t("result_" + new, "it"), exact=True).click()
    form.get_by_label("Commento").fill(comment)
    page.shot("override-form")
    form.get_by_role("button", name="Salva").click()

    title = target.title or target.id
    changed = page.get_by_test_id("stExpander").filter(has_text=title).filter(has_text="modificato da sup il")
    changed.wait_for()
    settle(page)
    page.get_by_test_id("stAlertContentSuccess").filter(has_text=f"Salvato. {target.id}").wait_for()
    after = store.load_evaluation(call_id)
    assert after.result(target.id).result == new
    assert after.score < before.score
    assert score.get_by_test_id("stMetricValue").inner_text() == f"{after.score:.0f}"
    shown = changed.get_by_text(re.compile(rf"(^|\s){t('result_' + new, 'it')}$")).first  # after its icon
    if not shown.is_visible():  # failed ones open by themselves
        changed.locator("summary").click()
    shown.wait_for()
    changed.get_by_text("modificato da sup il").wait_for()
    changed.scroll_into_view_if_needed()
    page.shot("override-saved")
    [review] = [r for r in store.reviews(call_id) if r.criterion_id == target.id]
    assert (review.old_result, review.new_result, review.reviewer, review.comment) == ("pass", new, "sup", comment)


@pytest.mark.parametrize("user, agent_id", [("laura", "A17"), ("syn", "A002")])
def test_operator_sees_only_own_calls(server, page, user, agent_id):
    base, store = server
    mine = own_calls(store, agent_id)
    assert mine and len(mine) < len(all_calls(store))
    page.goto(base + "/")
    login(page, user)
    assert page.get_by_role("heading", name="Le mie chiamate").is_visible()
    assert list_caption_count(page) == len(mine)
    options = open_call_options(page)
    assert set(options) == mine, (sorted(options), sorted(mine))
    page.shot("own-list")
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert "Tendenze" not in nav and "Utenti" not in nav


def test_operator_is_refused_a_colleagues_call(server, page):
    """A colleague's call looks exactly like a call that does not exist (issue 14)."""
    base, store = server
    colleague_call = "DEMO-DE-01"  # Stefan's (A31)
    assert colleague_call not in own_calls(store, "A17")
    open_call_by_url(page, base, "laura", colleague_call)
    page.get_by_text("Chiamata non trovata.").wait_for()  # as for an id that does not exist
    settle(page)
    page.shot("denied")
    main = page.get_by_test_id("stMain")
    text = main.inner_text()
    page.goto(f"{base}/call?call=DEMO-XX-99")  # an id that does not exist: the very same page (still signed in)
    page.get_by_text("Chiamata non trovata.").wait_for()
    settle(page)
    assert page.get_by_test_id("stMain").inner_text() == text
    transcript = store.load_transcript(colleague_call)
    assert colleague_call not in text
    assert not any(s.text[:30] in text for s in transcript.segments)
    assert page.locator("audio").count() == 0
    assert page.get_by_test_id("stMetric").count() == 0 and page.get_by_test_id("stForm").count() == 0
    denied = [(a.action, a.username) for a in store.audit_log(call_id=colleague_call)]
    assert ("call_open_denied", "laura") in denied
    assert ("call_open", "laura") not in denied

    # her own call opens in the same browser, without signing in again
    page.goto(f"{base}/call?call=DEMO-IT-01")
    wait_call_detail(page, "DEMO-IT-01")
    assert page.get_by_test_id("stForm").filter(has_text="Contesta questo risultato").count() == 1
    assert page.get_by_test_id("stForm").filter(has_text="Correggi il risultato").count() == 0
    page.shot("own-call")


@pytest.mark.security
def test_supervisor_hears_the_redacted_copy_not_the_original(server, page):
    """Issue 14, done-when: a supervisor plays a call's audio and the bytes served are the
    redacted file's (SHA-256 of what the browser fetches from the <audio> element's src, against
    the redacted copy on disk), never the original recording's."""
    import hashlib

    base, store = server
    call_id = "DEMO-IT-01"
    call = store.get_call(call_id)
    redacted, original = Path(call.redacted_audio_path), Path(call.audio_path)
    assert redacted.is_file() and original.is_file() and redacted != original
    open_call_by_url(page, base, "sup", call_id)
    wait_call_detail(page, call_id)
    page.wait_for_function("() => { const a = document.querySelector('audio'); return a && a.readyState >= 1; }")
    played = page.evaluate("() => document.querySelector('audio').play().then(() => true, e => String(e))")
    assert played is True, played  # the user presses play
    page.wait_for_function("() => document.querySelector('audio').currentTime > 0")
    src = page.evaluate("() => document.querySelector('audio').currentSrc")
    assert src.startswith(base)
    served = page.request.get(src)
    assert served.ok
    digest = hashlib.sha256(served.body()).hexdigest()
    assert digest == hashlib.sha256(redacted.read_bytes()).hexdigest()
    assert digest != hashlib.sha256(original.read_bytes()).hexdigest()
    assert page.get_by_role("switch").count() == 0 and page.get_by_text("Ascolta l'originale").count() == 0
    page.shot("redacted-audio")
    plays = [a for a in store.audit_log(call_id=call_id) if a.action == "audio_play" and a.username == "sup"]
    assert plays and plays[0].details == {"variant": "redacted", "file": redacted.name}


# ---------------------------------------------------------- issue 13: one click, screenshots, form
def _readme_shot(pg, name: str) -> None:
    """A picture for the README (docs/screenshots/), the visible part of the page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _click_table_row(pg, row: int) -> None:
    """Click a cell of the call table's row ``row`` (0 = first): the grid is a canvas, so by position."""
    grid = pg.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    header = row_height = 35  # Streamlit's data grid: default row and header height
    grid.click(position={"x": min(140, box["width"] / 3), "y": header + row_height * row + row_height / 2})


def _open_by_row(pg, row: int, call_id: str, tries: int = 3) -> None:
    """One click on the row opens the call; a click lost while Streamlit re-renders (two test
    workers on two cores) is repeated, as a user would, at most ``tries`` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        settle(pg)
        _click_table_row(pg, row)
        try:
            pg.get_by_role("heading", name=re.compile(rf"Dettaglio chiamata {re.escape(call_id)}$")).wait_for(
                timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
    wait_call_detail(pg, call_id)


def test_a_click_on_a_row_opens_the_call_and_the_readme_pictures(server, page):
    """Issue 13.4: one click on a row of the call list opens that call; coming back to the list
    does not bounce into the call again. Issue 13.6: the README's screenshots."""
    from qa.store import queries as q

    base, store = server
    page.goto(base + "/")
    login(page, "sup")
    rows, _ = q.call_list(store, q.CallFilters(), sort="-started_at", page=1, page_size=50)
    ids = [r["call_id"] for r in rows]
    target = "DEMO-IT-01"
    assert target in ids[:10]
    page.get_by_test_id("stDataFrame").first.wait_for()
    settle(page)
    text = page.inner_text("body")
    for english in ("Choose options", "Choose an option"):
        assert english not in text
    _readme_shot(page, "call-list")
    _open_by_row(page, ids.index(target), target)
    assert f"call={target}" in page.url
    page.get_by_test_id("stExpander").first.wait_for()
    assert page.locator("[data-testid='stIconMaterial']").count() > 0  # Material icons, not emoji
    _readme_shot(page, "call-detail")

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Chiamate").click()
    page.get_by_role("heading", name="Chiamate").wait_for()
    settle(page)
    page.wait_for_timeout(1500)  # a stale selection would switch to the call page by now
    settle(page)
    assert page.get_by_role("heading", name="Chiamate").is_visible() and "call=" not in page.url
    # another row, one click again
    other = next(c for c in ids[:10] if c != target)
    _open_by_row(page, ids.index(other), other)


def test_qa_lead_changes_a_phrase_list_in_the_form_previews_and_publishes(server, page):
    """Issue 13.5, done-when: a QA lead removes a phrase from a list in the form view, sees the
    preview (which calls change result, with the evidence), publishes, and the YAML on disk has
    the change and its comments. Last in this file: the published rubric re-scores the store."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from qa.rubric.editing import RubricDocument

    base, store = server
    page.goto(base + "/rubrics")
    login(page, "lead")
    page.get_by_role("heading", name="Editor rubriche").wait_for()
    choose(page, page.get_by_test_id("stSelectbox").filter(has_text="Rubrica"), "assistenza")
    settle(page)
    box = page.get_by_test_id("stSelectbox").filter(has_text="Criterio").first
    inp = box.locator("input")
    inp.click()
    inp.press_sequentially("saluto")
    page.locator("[role='option']").filter(has_text=re.compile(r"^saluto — ")).click()
    settle(page)
    phrases = page.locator("[class*='st-key-rf_phrases--assistenza--saluto_apertura--it--']")
    phrases.wait_for()
    removed = page.get_by_text(re.compile(r"@saluto_apertura \[it\]: tolte «buongiorno»"))
    for attempt in range(3):  # a click that lands while Streamlit re-renders is lost: a user clicks again
        remove = phrases.get_by_role("button", name="Remove buongiorno", exact=True)  # the chip's ×
        if remove.count():
            remove.click()
        settle(page)
        try:
            removed.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    preview = page.locator(".st-key-rf_change_DEMO-IT-01")
    try:
        preview.wait_for()
    finally:
        page.shot("after-remove")
    text = preview.inner_text()
    assert "saluto" in text and "Telco Ticino, sono Laura Bernasconi" in text, text
    preview.scroll_into_view_if_needed()
    page.shot("form-preview")
    _readme_shot(page, "rubric-form")

    page.get_by_role("button", name="Pubblica e ricalcola").click()
    page.get_by_text(re.compile(r"^Pubblicata la versione ")).wait_for()
    settle(page)
    published = DATA_DIRS[base] / "rubriche" / "assistenza.yaml"
    text = published.read_text(encoding="utf-8")
    doc = RubricDocument.from_file(published)
    assert "buongiorno" not in doc.phrases("saluto_apertura", "it")
    assert "buonasera" in doc.phrases("saluto_apertura", "it")
    bundled = (ROOT / "rubriche" / "assistenza.yaml").read_text(encoding="utf-8")
    comments = [ln for ln in bundled.splitlines() if ln.lstrip().startswith("#")]
    assert comments and [ln for ln in text.splitlines() if ln.lstrip().startswith("#")][:len(comments)] == comments
    assert ("rubric_publish" in [a.action for a in store.audit_log(limit=50)]
            or any(str(v.version) == doc.version for v in store.rubric_versions("assistenza")))
