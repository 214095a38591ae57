"""Feedback report for one operator (HTML, printable to PDF from the browser) for coaching."""

from __future__ import annotations

import datetime as dt
import html

from ..store import queries as q
from .i18n import t
from .views.common import competence_rates


def operator_report_html(store, agent_id: str, lang: str = "it", date_from=None, date_to=None,
                         max_examples: int = 15) -> str:
    """The coaching report of one operator as a printable HTML page: calls and mean score, pass
    rate per criterion, weakest and strongest competences, and the failed criteria of up to
    ``max_examples`` recent calls with their feedback."""
    f = q.CallFilters(agent_id=agent_id, date_from=date_from, date_to=date_to)
    rows, total = q.call_list(store, f, sort="-started_at", page=1, page_size=200)
    agent_name = next((r["agent_name"] for r in rows if r.get("agent_name")), agent_id)
    scores = [r["score"] for r in rows if r.get("score") is not None]
    rates = q.heatmap_agents_criteria(store, f)
    comp = competence_rates(rates, q.criterion_competences(store))
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(t('report', lang))} — {esc(agent_name)}</title>",
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px}.fail{color:#b00}.pass{color:#070}</style></head><body>",
        f"<h1>{esc(t('report', lang))}: {esc(agent_name)} ({esc(agent_id)})</h1>",
        f"<p>{esc(t('n_calls', lang, n=total))} · {esc(t('score', lang))}: "
        f"{(sum(scores) / len(scores)) if scores else 0:.1f} · {dt.date.today().isoformat()}</p>",
        f"<h2>{esc(t('pass_rate_criterion', lang))}</h2><table><tr><th>{esc(t('criterion', lang))}</th>"
        "<th>%</th><th>n</th></tr>",
    ]
    for r in sorted(rates, key=lambda r: (r["pass_rate"] is None, r["pass_rate"] or 0)):
        parts.append(f"<tr><td>{esc(r['criterion_id'])}</td><td>{'-' if r['pass_rate'] is None else r['pass_rate']}"
                     f"</td><td>{r['passed'] + r['failed']}</td></tr>")
    parts.append("</table>")
    if not comp.empty:
        ranked = comp.dropna(subset=["pass_rate"]).sort_values("pass_rate")
        parts.append(f"<h2>{esc(t('weakest', lang))}</h2><ul>")
        parts += [f"<li>{esc(str(r.competence))}: {r.pass_rate}%</li>" for r in ranked.head(3).itertuples()]
        parts.append(f"</ul><h2>{esc(t('strongest', lang))}</h2><ul>")
        parts += [f"<li>{esc(str(r.competence))}: {r.pass_rate}%</li>" for r in ranked.tail(3)[::-1].itertuples()]
        parts.append("</ul>")
    parts.append(f"<h2>{esc(t('feedback', lang))}</h2>")
    shown = 0
    for r in rows:
        if shown >= max_examples:
            break
        ev = store.load_evaluation(r["call_id"])
        fails = [c for c in (ev.criteria if ev else []) if c.result == "fail"]
        if not fails:
            continue
        shown += 1
        when = r["started_at"].strftime("%Y-%m-%d %H:%M") if r.get("started_at") else ""
        parts.append(f"<h3>{esc(r['call_id'])} · {esc(when)} · {esc(t('score', lang))} "
                     f"{'-' if r['score'] is None else round(r['score'])}</h3><ul>")
        for c in fails:
            parts.append(f"<li class='fail'><b>{esc(c.title or c.id)}</b> ({esc(c.competence)}): {esc(c.feedback)}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)
