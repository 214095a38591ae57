"""Small pieces shared by pages: result badges, time formatting, speaker names."""

from __future__ import annotations

from ..i18n import t

RESULT_ICON = {"pass": "✅", "fail": "❌", "na": "➖"}


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0.0, float(seconds))
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def result_label(result: str, lang: str) -> str:
    return f"{RESULT_ICON.get(result, '')} {t('result_' + result, lang)}"


def speaker_label(speaker: str, lang: str) -> str:
    return t({"agent": "agent_speaker", "customer": "customer_speaker"}.get(speaker, "unknown_speaker"), lang)
