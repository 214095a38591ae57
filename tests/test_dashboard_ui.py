"""Issue 13.4/13.5 with Streamlit's AppTest on a real SQLite store: every visible string in the
chosen language (placeholders, date format, period labels, column headers), Material icons
instead of emoji, the per-criterion heat map's data (criteria x weeks from the store's rollups),
the reason a criterion result carries, and the rubric form view (edits land in the YAML with its
comments, the live preview shows the calls whose result changes and the evidence)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from qa.store import open_store
from qa.store import queries as q
from qa.store.synthetic import populate

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app_streamlit.py")
SAMPLES = ROOT / "samples"
PASSWORD = "secret-pass-1"
# pictographic emoji (what needs an emoji font); arrows and dashes in texts are ordinary glyphs
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Synthetic history plus the real sample call DEMO-IT-01 (ingested from its reference
    transcript by the real pipeline), users of each role; QA_DATA_DIR in tmp (published rubrics
    go there, the bundled rubriche/ stay untouched)."""
    from qa.ingest import ingest

    tmp = tmp_path_factory.mktemp("dash_ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_DATA_DIR", str(tmp))
        mp.setenv("QA_DATABASE_URL", url)
        for var in ("QA_RUBRICS_DIR", "QA_GOLD_LABELS", "QA_GOLD_TRANSCRIPTS"):
            mp.delenv(var, raising=False)
        store = open_store(url)
        report = ingest([str(SAMPLES / "transcripts" / "DEMO-IT-01.json")], store,
                        metadata_csv=str(SAMPLES / "calls.csv"), workers=1, progress=False)
        assert report.stored == 1, report.failures
        with store.session() as s:
            populate(s, 200, seed=7, n_agents=5, days=70)
        store.create_user("sup", PASSWORD, "supervisor", display_name="Sara Supervisor")
        store.create_user("lead", PASSWORD, "qa_lead", display_name="Lea Lead")
        yield store, tmp
        store.close()


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def _login(at: AppTest, user: str) -> AppTest:
    from .apptest_login import login

    return login(at, user, PASSWORD)


def _visible_texts(at: AppTest) -> list[str]:
    """Every label, text and option the page shows (widgets and elements)."""
    out = []
    for kind in ("title", "subheader", "header", "markdown", "caption", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("button", "selectbox", "multiselect", "text_input", "number_input", "date_input", "slider",
                 "checkbox", "toggle", "radio", "text_area"):
        for w in getattr(at, kind):
            out.append(w.label or "")
            out += [str(o) for o in getattr(w, "options", []) or []]
            ph = getattr(w.proto, "placeholder", "")
            out.append(ph)
    for e in at.expander:
        out.append(e.label)
    for tab in at.tabs:
        out.append(tab.label)
    return out


# --------------------------------------------------------------------- strings and placeholders
def test_call_list_speaks_italian_placeholders_included(env):
    at = _login(_app(), "sup")
    assert not at.exception, at.exception
    assert at.multiselect, "filters shown"
    for ms in at.multiselect:
        assert ms.proto.placeholder == "Scegli…", (ms.label, ms.proto.placeholder)
    lang = at.multiselect(key="f_lang")
    assert set(lang.options) == {"italiano", "tedesco", "francese", "inglese"}, lang.options
    assert at.date_input(key="f_dates").proto.format == "DD.MM.YYYY"
    assert at.text_input(key="f_search").label.startswith("Cerca")
    assert at.selectbox(key="f_failed").proto.placeholder == "Scegli un valore"
    texts = " ".join(_visible_texts(at))
    for english in ("Choose options", "Choose an option", "week", "Select"):
        assert english not in texts, english
    # column headers of the call table in Italian
    columns = json.loads(at.dataframe[0].proto.columns)
    labels = {c.get("label") for c in columns.values()}
    assert {"Chiamata", "Inizio", "Operatore", "Punteggio", "Lingua della chiamata"} <= labels, labels
    assert any("Clicca una riga" in c.value for c in at.caption)


def test_trends_page_labels_periods_and_axes_in_the_chosen_language(env):
    at = _login(_app(), "sup")
    at.switch_page("qa/dashboard/pages/trends.py").run()
    assert not at.exception, at.exception
    period = at.selectbox(key="tr_period")
    assert period.label == "Periodo di aggregazione"
    assert list(period.options) == ["settimana", "giorno", "mese"]
    for ms in at.multiselect:
        assert ms.proto.placeholder == "Scegli…"
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert specs, "charts shown"
    spec_text = json.dumps(specs, ensure_ascii=False)
    assert "Tasso di superamento (%)" in spec_text and "Settimana" in spec_text and "Criterio" in spec_text
    # German, chosen in the sidebar: the same page in German
    at.sidebar.selectbox(key="ui_lang").set_value("de").run()
    assert not at.exception, at.exception
    period = at.selectbox(key="tr_period")
    assert period.label == "Zeiteinheit" and list(period.options) == ["Woche", "Tag", "Monat"]
    spec_text = json.dumps([json.loads(c.proto.spec) for c in at.get("vega_lite_chart")], ensure_ascii=False)
    assert "Erfüllungsquote (%)" in spec_text and "Kriterium" in spec_text


# ---------------------------------------------------------------------------------------- icons
def test_call_detail_uses_material_icons_not_emoji(env):
    store, _ = env
    at = _app()
    at.query_params["call"] = "DEMO-IT-01"
    _login(at, "sup")
    assert not at.exception, at.exception
    assert at.metric, "the call page is shown"
    icons = [e.icon for e in at.expander if e.icon]
    ev = store.load_evaluation("DEMO-IT-01")
    assert len(icons) >= len(ev.criteria)
    assert all(i.startswith(":material/") for i in icons), icons
    assert ":material/check_circle:" in icons  # DEMO-IT-01 passes most criteria
    texts = _visible_texts(at)
    offenders = [x for x in texts if EMOJI.search(x)]
    assert not offenders, offenders
    # evidence buttons carry a Material play icon
    ev_buttons = [b for b in at.button if (b.key or "").startswith("ev-")]
    assert ev_buttons and all(b.proto.icon == ":material/play_arrow:" for b in ev_buttons)


def test_no_emoji_left_in_the_dashboard_sources():
    """Every page's icons are Material icons, the upload page's included."""
    offenders = []
    for p in sorted((ROOT / "qa" / "dashboard").rglob("*.py")):
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if EMOJI.search(line):
                offenders.append(f"{p.name}:{n}: {line.strip()}")
    assert not offenders, offenders


# ------------------------------------------------------------------------------------ heat map
def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def test_criterion_week_heatmap_counts_every_current_result(env):
    """The heat map's cells against the criterion results themselves (not the rollups)."""
    from sqlalchemy import select

    from qa.store.schema import CriterionResultRow as R

    store, _ = env
    expected: Counter = Counter()
    with store.session() as s:
        for cid, started, result in s.execute(select(R.criterion_id, R.started_at, R.result)
                                              .where(R.is_current, R.started_at.is_not(None))):
            if result != "na":
                expected[(cid, _monday(started.date()).isoformat(), result)] += 1
    rows = q.criterion_period_heatmap(store, "week")
    got = Counter()
    for r in rows:
        got[(r["criterion_id"], r["period"], "pass")] += r["passed"]
        got[(r["criterion_id"], r["period"], "fail")] += r["failed"]
        assert r["pass_rate"] == round(100 * r["passed"] / (r["passed"] + r["failed"]), 1)
    assert +got == +expected
    weeks = {r["period"] for r in rows}
    assert len(weeks) >= 10 and all(date.fromisoformat(w).weekday() == 0 for w in weeks)
    # a team filter narrows it
    team = q.distinct_values(store, "team")[0]
    narrowed = q.criterion_period_heatmap(store, "week", q.CallFilters(team=team))
    assert 0 < sum(r["passed"] + r["failed"] for r in narrowed) < sum(r["passed"] + r["failed"] for r in rows)


def _expected_week_counts(store) -> Counter:
    from sqlalchemy import select

    from qa.store.schema import CriterionResultRow as R

    expected: Counter = Counter()
    with store.session() as s:
        for cid, started, result in s.execute(select(R.criterion_id, R.started_at, R.result)
                                              .where(R.is_current, R.started_at.is_not(None))):
            if result != "na":
                expected[(cid, _monday(started.date()).isoformat(), result)] += 1
    return expected


def test_criterion_week_heatmap_on_postgresql():
    """The same query on the PostgreSQL server (date_trunc instead of SQLite's date modifiers)."""
    from .pg import pg_schema_url

    with pg_schema_url("qa_ui_heat") as url:
        store = open_store(url)
        try:
            with store.session() as s:
                populate(s, 150, seed=11, n_agents=4, days=50)
            rows = q.criterion_period_heatmap(store, "week")
            got = Counter()
            for r in rows:
                got[(r["criterion_id"], r["period"], "pass")] += r["passed"]
                got[(r["criterion_id"], r["period"], "fail")] += r["failed"]
            assert +got == +_expected_week_counts(store) and len(rows) > 50
            months = q.criterion_period_heatmap(store, "month")
            assert all(r["period"].endswith("-01") for r in months)
        finally:
            store.close()


def test_heatmap_window_and_months_agree_with_the_full_weeks(env):
    """``last=N`` keeps exactly the N latest periods of the full answer; months (from the monthly
    rollup) add up to the same counts as the days."""
    store, _ = env
    full = q.criterion_period_heatmap(store, "week")
    weeks = sorted({r["period"] for r in full})
    window = q.criterion_period_heatmap(store, "week", last=4)
    assert sorted({r["period"] for r in window}) == weeks[-4:]
    assert window == [r for r in full if r["period"] in weeks[-4:]]
    by_month: Counter = Counter()
    from sqlalchemy import select

    from qa.store.schema import CriterionResultRow as R

    with store.session() as s:
        for cid, started, result in s.execute(select(R.criterion_id, R.started_at, R.result)
                                              .where(R.is_current, R.started_at.is_not(None))):
            if result != "na":
                by_month[(cid, started.date().replace(day=1).isoformat(), result)] += 1
    got: Counter = Counter()
    for r in q.criterion_period_heatmap(store, "month"):
        got[(r["criterion_id"], r["period"], "pass")] += r["passed"]
        got[(r["criterion_id"], r["period"], "fail")] += r["failed"]
    assert +got == +by_month


def test_trends_heatmap_is_criteria_by_weeks_or_by_teams(env):
    from qa.dashboard.views.trends import heatmap_frame

    store, _ = env
    at = _login(_app(), "sup")
    at.switch_page("qa/dashboard/pages/trends.py").run()
    assert not at.exception, at.exception
    by_week = heatmap_frame(store, "period", "week", q.CallFilters())
    assert set(by_week.columns) >= {"criterion_id", "column", "pass_rate"}
    all_weeks = {r["period"] for r in q.criterion_period_heatmap(store, "week")}
    assert by_week["criterion_id"].nunique() >= 8 and by_week["column"].nunique() == min(12, len(all_weeks)) >= 10
    rects = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("layer" in s and s["layer"][0]["mark"]["type"] == "rect" for s in rects), "heat map drawn"
    at.get("button_group")[0].set_value("team").run()
    assert not at.exception, at.exception
    by_team = heatmap_frame(store, "team", "week", q.CallFilters())
    assert set(by_team["column"]) == set(q.distinct_values(store, "team"))


# ------------------------------------------------------------------- the reason of a result
def test_call_detail_shows_the_second_opinion_on_a_doubted_criterion(env):
    """An evaluation whose applicability a call model doubts (``second_opinion``, flag ``review``:
    qa.learning.active) shows the doubt inside that criterion, expanded, in the interface language."""
    from sqlalchemy import select, update

    from qa.dashboard.i18n import t
    from qa.store.schema import Call, EvaluationRow

    store, _ = env
    ev = store.load_evaluation("DEMO-IT-01")
    with store.session() as s:
        pk = s.scalar(select(Call.id).where(Call.call_id == "DEMO-IT-01"))
        s.execute(update(EvaluationRow).where(EvaluationRow.call_pk == pk, EvaluationRow.is_current)
                  .values(extra={**ev.extra, "second_opinion": [{"criterion": "identificazione", "result": "pass",
                                                                 "p_applies": 0.12}]},
                          flags=[*ev.flags, "review"]))
    try:
        at = _app()
        at.query_params["call"] = "DEMO-IT-01"
        _login(at, "sup")
        assert not at.exception, at.exception
        want = t("second_opinion_na", "it", p=0.12)
        assert any(want in w.value for w in at.warning), [w.value for w in at.warning]
        # and the supervisor's review queue lists the call with the doubted criterion
        at.switch_page("qa/dashboard/pages/review.py").run()
        assert not at.exception, at.exception
        table = at.dataframe[0].value
        row = table[table["call_id"] == "DEMO-IT-01"]
        assert len(row) == 1 and row["doubted"].iloc[0] == "identificazione"
    finally:
        with store.session() as s:
            s.execute(update(EvaluationRow).where(EvaluationRow.call_pk == pk, EvaluationRow.is_current)
                      .values(extra=ev.extra or None, flags=list(ev.flags)))


def test_call_detail_shows_each_criterions_measured_reliability(env):
    """Beside every result, how often that criterion agrees with careful evaluators on calls the tool never
    saw (modelli/affidabilita.json, written by bench/agreement.py): the scripted figure always, the real
    mono one when the call's speakers were inferred; in the interface language."""
    from sqlalchemy import select, update

    from qa.dashboard.i18n import t
    from qa.learning.intervals import format_interval
    from qa.learning.reliability import load_reliability
    from qa.store.schema import Call, EvaluationRow

    store, _ = env
    data = load_reliability()
    assert data["sets"]["scripted"]["set"] == "untouched" and data["sets"]["real_mono"]["set"] == "luna-heldout"

    def caption(kind: str, crit: str, lang: str) -> str:
        r = data["criteria"][crit][kind]
        return t(f"reliability_{kind}", lang, acc=f"{100 * r['accuracy']:.0f} %",
                 ci=format_interval(r["interval"], True),
                 n=r["n"])

    ev = store.load_evaluation("DEMO-IT-01")
    at = _app()
    at.query_params["call"] = "DEMO-IT-01"
    _login(at, "sup")
    assert not at.exception, at.exception
    shown = [c.value for c in at.caption]
    for crit in ("protezione_dati", "riepilogo"):
        assert caption("scripted", crit, "it") in shown, shown
        assert caption("real_mono", crit, "it") not in shown  # a stereo call: its speakers are known
    with store.session() as s:
        pk = s.scalar(select(Call.id).where(Call.call_id == "DEMO-IT-01"))
        s.execute(update(EvaluationRow).where(EvaluationRow.call_pk == pk, EvaluationRow.is_current)
                  .values(extra={**ev.extra, "roles_inferred": True}))
    try:
        at = _app()
        at.query_params["call"] = "DEMO-IT-01"
        _login(at, "sup")
        assert not at.exception, at.exception
        assert caption("real_mono", "riepilogo", "it") in [c.value for c in at.caption]
    finally:
        with store.session() as s:
            s.execute(update(EvaluationRow).where(EvaluationRow.call_pk == pk, EvaluationRow.is_current)
                      .values(extra=ev.extra or None))


@pytest.mark.parametrize("kind", ["na", "fail"])
def test_call_detail_shows_the_reason_a_result_carries(env, kind):
    """A criterion result with a reason shows that reason on the call page: an ``na`` (the recording
    starts after the opening), or a ``fail`` of a conditional criterion (why it applied, the turn
    quoted: what the engine writes with a rubric's ``applies`` text)."""
    from sqlalchemy import select, update

    from qa.store.schema import Call, CriterionResultRow

    store, _ = env
    reason = {"na": "La registrazione inizia dopo l'apertura: il saluto non è valutabile.",
              "fail": "Il cliente ha espresso insoddisfazione (0:12 «è la terza volta che chiamo»)"}[kind]
    ev = store.load_evaluation("DEMO-IT-01")
    target = next(c for c in ev.criteria if c.result == "na")
    with store.session() as s:
        pk = s.scalar(select(Call.id).where(Call.call_id == "DEMO-IT-01"))
        s.execute(update(CriterionResultRow)
                  .where(CriterionResultRow.call_pk == pk, CriterionResultRow.criterion_id == target.id,
                         CriterionResultRow.is_current)
                  .values(extra={"reason": reason}, result=kind))
    assert store.load_evaluation("DEMO-IT-01").result(target.id).extra.get("reason") == reason
    at = _app()
    at.query_params["call"] = "DEMO-IT-01"
    _login(at, "sup")
    assert not at.exception, at.exception
    from qa.dashboard.views.common import md_escape

    assert any(md_escape(reason) in i.value for i in at.info), [i.value for i in at.info]


# ------------------------------------------------------------------------- rubric form view
def _rubric_form(env, rubric: str = "assistenza") -> AppTest:
    at = _login(_app(), "lead")
    at.switch_page("qa/dashboard/pages/rubrics.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="rubric_name").set_value(rubric).run()
    assert not at.exception, at.exception
    return at


def _widget(at: AppTest, kind: str, prefix: str):
    [w] = [w for w in getattr(at, kind) if (w.key or "").startswith(prefix)]
    return w


def test_rubric_form_edits_land_in_the_yaml_with_its_comments(env):
    from qa.rubric import load_rubric

    at = _rubric_form(env)
    key = "rubric_text::assistenza"
    original = at.text_area(key=key).value
    comments = [ln for ln in original.splitlines() if ln.lstrip().startswith("#")]
    assert comments
    chosen = at.multiselect(key="preview_calls::assistenza")
    assert "DEMO-IT-01" in chosen.options
    chosen.set_value(["DEMO-IT-01"] + [c for c in chosen.value if c != "DEMO-IT-01"][:4]).run()
    at.selectbox(key="rf_crit::assistenza").set_value("saluto").run()
    assert _widget(at, "text_input", "rf_title::assistenza::saluto::").value == \
        load_rubric("assistenza").criterion("saluto").title
    _widget(at, "number_input", "rf_weight::assistenza::saluto::").set_value(3.0).run()
    assert not at.exception, at.exception
    text = at.text_area(key=key).value
    assert text != original
    assert [ln for ln in text.splitlines() if ln.lstrip().startswith("#")] == comments
    edited = RubricDocumentFor(text)
    assert edited.criterion("saluto").weight == 3
    assert edited.version != str(load_rubric("assistenza").version)  # a new version is suggested
    summary = " ".join(m.value for m in at.markdown)
    assert "saluto" in summary and "peso 1 → 3" in summary
    # the phrase list (inherited from comune.yaml): remove a phrase in Italian
    phrases = _widget(at, "multiselect", "rf_phrases::assistenza::saluto_apertura::it::")
    assert "buongiorno" in phrases.value
    phrases.set_value([p for p in phrases.value if p != "buongiorno"]).run()
    assert not at.exception, at.exception
    text = at.text_area(key=key).value
    edited = RubricDocumentFor(text)
    assert "buongiorno" not in edited.phrases("saluto_apertura", "it")
    assert edited.criterion("saluto").weight == 3  # the earlier edit is still there
    assert [ln for ln in text.splitlines() if ln.lstrip().startswith("#")] == comments
    # the live preview: DEMO-IT-01's greeting was "Buongiorno, servizio clienti Telco Ticino, sono Laura Bernasconi. ..."
    from qa.pipeline import score_transcript

    store, _ = env
    new = score_transcript(store.load_transcript("DEMO-IT-01"), edited.rubric())
    old = store.load_evaluation("DEMO-IT-01")
    assert (old.result("saluto").result, new.result("saluto").result) == ("pass", "fail")
    assert any("DEMO-IT-01" in m.value for m in at.markdown)
    change = " ".join(m.value for m in at.markdown if "saluto" in m.value and "prima" in m.value)
    assert "Telco Ticino, sono Laura Bernasconi" in change, change
    preview = [a for a in store.audit_log(limit=20) if a.action == "rubric_preview" and a.username == "lead"]
    assert preview and preview[0].details.get("view") == "form"


def test_rubric_form_refuses_an_invalid_phrase_and_keeps_the_draft(env):
    at = _rubric_form(env)
    key = "rubric_text::assistenza"
    before = at.text_area(key=key).value
    at.selectbox(key="rf_crit::assistenza").set_value("saluto").run()
    phrases = _widget(at, "multiselect", "rf_phrases::assistenza::saluto_apertura::de::")
    phrases.set_value(phrases.value + ["[grüezi"]).run()  # an unclosed alternative
    assert not at.exception, at.exception
    assert any("Modifica rifiutata" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_area(key=key).value == before


def RubricDocumentFor(text: str):
    from qa.rubric.editing import RubricDocument

    return RubricDocument.from_text(text, "assistenza.yaml")
