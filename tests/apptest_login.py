"""Signing in for AppTest-based dashboard tests.

AppTest cannot send cookies, so a test signs in the way the login page does
(``qa.dashboard.session.login``: password check, lockout rules, a row in the sessions table) and
hands the cookie value to the script through ``session.TEST_COOKIE_KEY``, which the script reads
only under AppTest (``global.appTest``) and resolves exactly like the browser's cookie."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from qa.dashboard import session


def sign_in(at: AppTest, user: str, password: str) -> str:
    """Sign ``user`` in for ``at`` (no run); the cookie value. Fails the test on a refusal."""
    result = session.login(session.app_store(), user, password)
    assert result.ok, f"sign-in of {user!r} refused"
    at.session_state[session.TEST_COOKIE_KEY] = result.cookie
    return result.cookie


def login(at: AppTest, user: str, password: str) -> AppTest:
    """Sign in, then run the app."""
    sign_in(at, user, password)
    return at.run()
