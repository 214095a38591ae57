"""The rubric language's shape as pydantic models (qa.rubric.spec): the key sets the loader and the
editor use come from the models, every mistake in one mapping is reported together with its file
and line, the defaults are the documented ones, and the shipped rubrics build through it."""

from __future__ import annotations

import textwrap

import pytest

from qa.rubric import load_rubric_text, validate_rubric_text
from qa.rubric import rules as R
from qa.rubric import schema, spec

FEEDBACK = """\
    feedback:
      pass: {it: "3.1 — ok", de: "3.1 — ok", fr: "3.1 — ok", en: "3.1 — ok"}
      fail: {it: "3.1 — manca", de: "3.1 — fehlt", fr: "3.1 — manque", en: "3.1 — missing"}
"""
RULE_LINE = 15  # the line of the rule below in every variant


def rubric(rule: str, extra_top: str = "") -> str:
    return textwrap.dedent(f"""\
        rubric: prova
        version: 1.0
        collections:
          ciao:
            it: ["buongiorno"]
            de: ["guten Tag"]
            fr: ["bonjour"]
            en: ["good morning"]
        criteria:
          saluto_prova:
            title: Prova
            competence: ["2.1"]
            weight: 1
            rule:
              {rule}
        """) + FEEDBACK + extra_top


def errors(text: str) -> list[tuple[int | None, str]]:
    return sorted((e.line, e.message) for e in validate_rubric_text(text, "prova.yaml"))


def test_key_sets_come_from_the_models():
    assert schema.SAID_KEYS == {"by", "any_of", "within", "min_count", "max_count", "negation", "near"}
    assert schema.WINDOW_KEYS == {"first_seconds", "last_seconds", "first_percent", "last_percent", "first_turns",
                                  "last_turns"}
    assert schema.FEEDBACK_KEYS == {"pass", "fail", "na", "applies"}  # 'pass' is an alias of a Python-safe field name
    assert schema.CRITERION_KEYS == set(spec.CriterionSpec.model_fields)
    assert schema.RULE_KEYS == tuple(schema.RULES) and schema.RULE_KEYS[:4] == ("all", "any", "not", "said")
    for name, model in [("SAID_KEYS", spec.SaidSpec), ("NEAR_KEYS", spec.NearSpec), ("MODEL_KEYS", spec.ModelSpec),
                        ("OVERTALK_KEYS", spec.OvertalkSpec), ("SILENCE_KEYS", spec.SilenceSpec),
                        ("NAME_SAID_KEYS", spec.NameSaidSpec), ("TOP_KEYS", spec.RubricSpec)]:
        assert getattr(schema, name) == model.keys(), name


def test_a_field_added_to_a_model_is_a_known_key():
    """Adding a key is one field: a model with one more field allows it, the original does not."""
    class Wider(spec.SilenceSpec):
        max_seconds: float | None = None

    assert Wider.keys() == spec.SilenceSpec.keys() | {"max_seconds"}
    c = schema._Ctx("x.yaml")
    assert schema.check(c, Wider, {"min_seconds": 3, "max_seconds": 9}, "'silence'").max_seconds == 9
    assert c.errors == []
    schema.check(c, spec.SilenceSpec, {"min_seconds": 3, "max_seconds": 9}, "'silence'")
    assert [e.message for e in c.errors] == ["unknown key 'max_seconds' in 'silence' (allowed: min_count, min_seconds)"]


def test_every_mistake_of_one_mapping_is_reported_with_its_line():
    text = rubric('said: {any_of: "@ciao", min_count: 0, negation: maybe, colour: red, '
                  'within: {first_turns: 0, last_percent: 120}}')
    assert errors(text) == [
        (RULE_LINE, "'first_turns' must be a whole number >= 1, got 0"),
        (RULE_LINE, "'last_percent' must be a number > 0.0 and <= 100.0, got 120"),
        (RULE_LINE, "'min_count' must be a whole number >= 1, got 0"),
        (RULE_LINE, "'negation' must be exclude, include or only, got 'maybe'"),
        (RULE_LINE, "unknown key 'colour' in 'said' (allowed: any_of, by, max_count, min_count, near, negation, within)"),
    ]


def test_a_missing_key_and_the_other_mistakes_together():
    assert errors(rubric("said: {by: boss, min_count: 0}")) == [
        (RULE_LINE, "'by' must be one of agent, customer, any, agent_known, got 'boss'"),
        (RULE_LINE, "'min_count' must be a whole number >= 1, got 0"),
        (RULE_LINE, "'said' needs 'any_of' (the phrases)"),
    ]


@pytest.mark.parametrize("rule, expected", [
    ('said: {any_of: "@ciao", near: {any_of: "@ciao", within_words: 3, within_turns: 1}}',
     "'near' needs exactly one of 'within_words' or 'within_turns'"),
    ('said: {any_of: "@ciao", near: {within_turns: 1}}', "'near' needs 'any_of'"),
    ("model: {name: Bad-Name}", "'model' needs 'name' (a model in modelli/), got 'Bad-Name'"),
    ("model: {label: x}", "'model' needs 'name' (a model in modelli/), got None"),
    ('all: [{overtalk: {min_seconds: 0}}, {said: {any_of: "@ciao"}}]', "'min_seconds' must be a number > 0.0, got 0"),
    ('all: [{criterion: {id: saluto_prova, result: maybe}}, {said: {any_of: "@ciao"}}]',
     "'result' must be pass, fail or na, got 'maybe'"),
    ('all: [{name_said: {by: x}}, {said: {any_of: "@ciao"}}]', "'by' must be one of agent, customer, any, agent_known, got 'x'"),
])
def test_rule_mistakes(rule, expected):
    assert (RULE_LINE, expected) in errors(rubric(rule))


def test_feedback_and_texts():
    text = rubric('said: {any_of: "@ciao"}').replace(
        '      fail: {it: "3.1 — manca", de: "3.1 — fehlt", fr: "3.1 — manque", en: "3.1 — missing"}\n',
        '      na: {it: a, de: b, fr: c, es: d}\n      xx: 1\n')
    assert errors(text) == [
        (17, "criterion 'saluto_prova': feedback lacks 'fail'"),
        (18, "feedback 'na' of 'saluto_prova': text for language 'en' is missing"),
        (18, "feedback 'na' of 'saluto_prova': unknown language 'es'"),
        (19, "unknown key 'xx' in feedback of 'saluto_prova' (allowed: applies, fail, na, pass)"),
    ]


def test_top_level_settings():
    text = rubric('said: {any_of: "@ciao"}').replace("version: 1.0\n", "version: 1.0\ncall_type: vendita\n"
                                                    "negation_window: 11\n")
    assert errors(text) == [
        (3, "'call_type' must be one of acquisizione, assistenza, fidelizzazione, riacquisizione"),
        (4, "'negation_window' must be a whole number from 0 to 10"),
    ]


def test_defaults_and_values_reach_the_rule_tree():
    rub = load_rubric_text(rubric('all: [{said: {any_of: "@ciao", within: {first_turns: 2, last_percent: 30}, '
                                  'near: {any_of: "@ciao", within_turns: 0, position: before}}}, '
                                  '{silence: {min_seconds: 4}}, {overtalk: {by: customer}}]'), "prova.yaml")
    said, silence, overtalk = rub.criterion("saluto_prova").rule.items
    assert isinstance(said, R.Said) and said.by == "agent" and said.min_count == 1 and said.max_count is None
    assert said.negation == "exclude"
    assert said.window == R.Window(first_turns=2, last_percent=30.0)
    assert said.near.within_turns == 0 and said.near.within_words is None and said.near.position == "before"
    assert said.near.by == "any"
    assert (silence.min_seconds, silence.min_count) == (4.0, 1)
    assert (overtalk.by, overtalk.min_seconds, overtalk.min_count) == ("customer", 1.0, 1)
    assert rub.negation_window == 3 and rub.call_type is None
    assert rub.criterion("saluto_prova").weight == 1.0 and rub.criterion("saluto_prova").critical is False
