"""Small pieces shared by pages and the feedback report: result badges, time formatting,
speaker names, pass rate per competence."""

from __future__ import annotations

import re

import pandas as pd

from ...constants import LANGS
from ..i18n import TEXTS as _TEXTS
from ..i18n import t

# Streamlit's Material Symbols (a font served with Streamlit itself): they render on every
# machine, where emoji need an emoji font that a locked-down office PC often lacks
RESULT_ICON = {"pass": ":material/check_circle:", "fail": ":material/cancel:", "na": ":material/remove_circle_outline:"}
RESULT_COLOR = {"pass": "green", "fail": "red", "na": "gray"}
SPEAKER_ICON = {"agent": ":material/support_agent:", "customer": ":material/person:", "unknown": ":material/help:"}
ICON = {"warning": ":material/warning:", "critical": ":material/gpp_maybe:", "edited": ":material/edit_note:",
        "play": ":material/play_arrow:", "time": ":material/timer:", "search": ":material/search:",
        "refresh": ":material/refresh:", "open": ":material/open_in_new:", "reason": ":material/info:",
        "ok": ":material/check:"}
# what Streamlit's Markdown would turn into a link (also http:// autolinks), an image, HTML,
# formatting, LaTeX or a directive (:red[...])
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()<>!$~|#:])")


def md_escape(text) -> str:
    """Data (names, transcript text, comments) made literal inside Markdown: an operator's
    comment or a transcript line can then never show an image fetched from elsewhere, a link or
    formatting on a colleague's screen."""
    return "" if text is None else _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def fmt_time(seconds: float | None) -> str:
    """Seconds as ``m:ss.s`` (``-`` for none)."""
    if seconds is None:
        return "-"
    seconds = max(0.0, float(seconds))
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def result_label(result: str, lang: str, color: bool = True) -> str:
    """Icon and translated name of a pass/fail/na result (Markdown: coloured Material icon)."""
    icon = RESULT_ICON.get(result, "")
    if icon and color:
        icon = f":{RESULT_COLOR[result]}[{icon}]"
    return f"{icon} {t('result_' + result, lang)}".strip()


def lang_name(code: str | None, lang: str) -> str:
    """A call language code (it, de, fr, en) by its name in the interface language."""
    return t(f"lang_{code}", lang) if code in LANGS else (code or "")


def role_name(role: str, lang: str) -> str:
    """A role (operator, supervisor, qa_lead, admin) in the interface language."""
    return t(f"role_{role}", lang) if f"role_{role}" in _TEXTS else role


def na_reason(c, lang: str = "it") -> str | None:
    """Why a criterion result is what it is, when the result carries a reason: the engine's
    ``reason`` (or ``na_reason``) field, e.g. "the recording starts after the opening" for a
    greeting that is not applicable. None when there is none."""
    extra = getattr(c, "extra", None) or {}
    for key in ("reason", "na_reason", "explanation"):
        value = extra.get(key)
        if isinstance(value, dict):  # per language
            value = value.get(lang) or value.get("it") or next(iter(value.values()), None)
        if value:
            return str(value)
    return None


def speaker_label(speaker: str, lang: str) -> str:
    """Translated name of a transcript speaker (agent, customer, unknown)."""
    return t({"agent": "agent_speaker", "customer": "customer_speaker"}.get(speaker, "unknown_speaker"), lang)


def competence_rates(rows: list[dict], competences: dict[str, str]) -> pd.DataFrame:
    """Pass rate per competence code from per-criterion pass/fail counts (a criterion with
    several competences counts for each); ``competences`` as ``queries.criterion_competences``."""
    acc: dict[str, list[int]] = {}
    for r in rows:
        for code in [c.strip() for c in (competences.get(r["criterion_id"]) or "").split(",") if c.strip()]:
            a = acc.setdefault(code, [0, 0])
            a[0] += r["passed"]
            a[1] += r["failed"]
    data = [{"competence": k, "pass_rate": round(100 * p / (p + f), 1) if p + f else None, "n": p + f}
            for k, (p, f) in sorted(acc.items(), key=lambda kv: [int(x) for x in kv[0].split(".")])]
    return pd.DataFrame(data, columns=["competence", "pass_rate", "n"])


def _session_key(principal) -> tuple:
    """This sign-in: the user and the session the session state belongs to (``app.BOUND_KEY``; a
    new sign-in is a new session, and the session state is emptied when the session changes)."""
    import streamlit as st

    from ..app import BOUND_KEY

    return principal.username, st.session_state.get(BOUND_KEY)


def audit_once(store, principal, action: str, call_id: str | None = None, details: dict | None = None,
               what: str | None = None) -> bool:
    """Write one audit entry per signed-in session for (``action``, ``call_id``, ``what``):
    Streamlit runs the page again on every click, the audit log records the event once.
    Returns whether an entry was written."""
    import streamlit as st

    seen = st.session_state.setdefault("_qa_audited", set())
    key = (_session_key(principal), action, call_id, what)
    if key in seen:
        return False
    store.audit(action, principal.username, call_id, details)
    seen.add(key)
    return True


def audited_download(store, principal, label: str, data, file_name: str, mime: str, key: str,
                     action: str = "export", call_id: str | None = None, details: dict | None = None):
    """``st.download_button`` whose every click is written to the audit log (``action``, the
    file name and ``details``)."""
    import streamlit as st

    def _audit() -> None:
        store.audit(action, principal.username, call_id, {"file": file_name, **(details or {})})

    return st.download_button(label, data, file_name, mime, key=key, on_click=_audit)
