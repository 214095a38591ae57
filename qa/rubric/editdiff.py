"""What changed in a rubric document, in the QA lead's language (UI texts: Italian first, German,
French, English): ``summarise_changes`` for the confirmation before publishing
(``RubricDocument.diff_summary``), ``describe_applicability`` for the form's choices."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from ..config import LANGUAGES
from .formview import FIELDS
from .yamlrt import lang_phrases, one_line, plain, same


def summarise_changes(before, after, lang: str = "it") -> list[str]:
    """What changed from document ``before`` to document ``after`` (``RubricForm``), one line per change:
    criterion, field, old → new; phrases added and removed per collection and language; collections
    copied from the base; other changes of the YAML in one line. Empty: nothing."""
    old_v, new_v = before._view(), after._view()
    lines: list[str] = []
    if before.version != after.version:
        lines.append(text_for("version", lang).format(old=before.version, new=after.version))
    for cid in old_v.criteria:
        if cid not in new_v.criteria:
            lines.append(text_for("crit_removed", lang).format(cid=cid))
    for cid in new_v.criteria:
        if cid not in old_v.criteria:
            lines.append(text_for("crit_added", lang).format(cid=cid))
            continue
        a, b = before._form(cid, old_v), after._form(cid, new_v)
        label = f"{cid} ({b.title})" if isinstance(b.title, str) and b.title else cid
        for f in FIELDS:
            va, vb = getattr(a, f), getattr(b, f)
            if same(va, vb):
                continue
            where = ""
            la, lb = a.defined_in[f], b.defined_in[f]
            if lb != la and lb == after.file_label and after._ancestors:
                where = text_for("where_override", lang).format(file=lb, parent=la) if la else \
                    text_for("where_in", lang).format(file=lb)
            elif lb != la and lb and lb != after.file_label:
                where = text_for("where_back", lang).format(parent=lb)
            lines.append(f"{label}: {text_for(f, lang)} {_show(f, va, lang)} → {_show(f, vb, lang)}{where}")
    for name in old_v.collections:
        if name not in new_v.collections:
            lines.append(text_for("coll_removed", lang).format(name=name))
    for name in new_v.collections:
        if name not in old_v.collections:
            lines.append(text_for("coll_added", lang).format(name=name))
            continue
        (ba, la), (bb, lb) = old_v.collections[name], new_v.collections[name]
        if la != lb and lb == after.file_label:
            lines.append(text_for("coll_copied", lang).format(name=name, file=lb, parent=la))
        elif la != lb:
            lines.append(text_for("coll_inherited", lang).format(name=name, parent=lb))
        used = [cid for cid in new_v.criteria if name in after._collections_of(cid, new_v)]
        used_txt = text_for("used_by", lang).format(ids=", ".join(used)) if used else ""
        for lg in LANGUAGES:
            pa, pb = lang_phrases(ba, lg), lang_phrases(bb, lg)
            removed = [p for p in pa if p not in pb]
            added = [p for p in pb if p not in pa]
            parts = []
            if removed:
                parts.append(f"{text_for('removed', lang)} " + ", ".join(f"«{p}»" for p in removed))
            if added:
                parts.append(f"{text_for('added', lang)} " + ", ".join(f"«{p}»" for p in added))
            if parts:
                lines.append(f"@{name} [{lg}]: " + "; ".join(parts) + used_txt)
    if _rest(before._data) != _rest(after._data):
        lines.append(text_for("other", lang))
    return lines


def _rest(data: CommentedMap) -> Any:
    """The document less what diff_summary already describes (to notice other changes)."""
    d = plain(data)
    d.pop("version", None)
    d.pop("collections", None)
    crits = d.get("criteria")
    if isinstance(crits, dict):
        for cid in list(crits):
            if isinstance(crits[cid], dict):
                for k in ("title", "weight", "critical", "when"):
                    crits[cid].pop(k, None)
                if not crits[cid]:
                    del crits[cid]
        if not crits:
            del d["criteria"]
    return d


# ---- words for people (UI texts: Italian first, German, French, English) --------------------------

_TEXTS: dict[str, dict[str, str]] = {
    "title": {"it": "titolo", "de": "Titel", "fr": "titre", "en": "title"},
    "weight": {"it": "peso", "de": "Gewicht", "fr": "poids", "en": "weight"},
    "critical": {"it": "critico", "de": "kritisch", "fr": "critique", "en": "critical"},
    "applicability": {"it": "applicabilità", "de": "Anwendbarkeit", "fr": "applicabilité", "en": "applicability"},
    "yes": {"it": "sì", "de": "ja", "fr": "oui", "en": "yes"},
    "no": {"it": "no", "de": "nein", "fr": "non", "en": "no"},
    "always": {"it": "sempre", "de": "immer", "fr": "toujours", "en": "always"},
    "name_known": {"it": "se il nome del cliente è noto", "de": "wenn der Name des Kunden bekannt ist",
                   "fr": "si le nom du client est connu", "en": "when the customer's name is known"},
    "condition": {"it": "se: {name}", "de": "wenn: {name}", "fr": "si : {name}", "en": "when: {name}"},
    "rule": {"it": "se: {rule}", "de": "wenn: {rule}", "fr": "si : {rule}", "en": "when: {rule}"},
    "as_now": {"it": "come ora: {rule}", "de": "wie bisher: {rule}", "fr": "comme maintenant : {rule}",
               "en": "as now: {rule}"},
    "version": {"it": "versione: {old} → {new}", "de": "Version: {old} → {new}", "fr": "version : {old} → {new}",
                "en": "version: {old} → {new}"},
    "crit_added": {"it": "criterio {cid} aggiunto", "de": "Kriterium {cid} hinzugefügt",
                   "fr": "critère {cid} ajouté", "en": "criterion {cid} added"},
    "crit_removed": {"it": "criterio {cid} tolto", "de": "Kriterium {cid} entfernt", "fr": "critère {cid} retiré",
                     "en": "criterion {cid} removed"},
    "where_override": {"it": " (in {file}, al posto del valore di {parent})",
                       "de": " (in {file}, statt des Werts aus {parent})",
                       "fr": " (dans {file}, au lieu de la valeur de {parent})",
                       "en": " (in {file}, instead of the value from {parent})"},
    "where_in": {"it": " (in {file})", "de": " (in {file})", "fr": " (dans {file})", "en": " (in {file})"},
    "where_back": {"it": " (di nuovo il valore di {parent})", "de": " (wieder der Wert aus {parent})",
                   "fr": " (de nouveau la valeur de {parent})", "en": " (back to the value from {parent})"},
    "coll_added": {"it": "lista @{name} aggiunta", "de": "Liste @{name} hinzugefügt", "fr": "liste @{name} ajoutée",
                   "en": "list @{name} added"},
    "coll_removed": {"it": "lista @{name} tolta", "de": "Liste @{name} entfernt", "fr": "liste @{name} retirée",
                     "en": "list @{name} removed"},
    "coll_copied": {"it": "@{name}: copiata da {parent} in {file}; questa rubrica non seguirà più le modifiche "
                          "di {parent} a questa lista",
                    "de": "@{name}: aus {parent} nach {file} kopiert; diese Rubrik folgt Änderungen dieser Liste in "
                          "{parent} nicht mehr",
                    "fr": "@{name} : copiée de {parent} dans {file} ; cette grille ne suivra plus les changements de "
                          "cette liste dans {parent}",
                    "en": "@{name}: copied from {parent} into {file}; this rubric will no longer follow changes to "
                          "this list in {parent}"},
    "coll_inherited": {"it": "@{name}: di nuovo quella di {parent}", "de": "@{name}: wieder die aus {parent}",
                       "fr": "@{name} : de nouveau celle de {parent}", "en": "@{name}: back to the one in {parent}"},
    "added": {"it": "aggiunte", "de": "hinzugefügt", "fr": "ajoutées", "en": "added"},
    "removed": {"it": "tolte", "de": "entfernt", "fr": "retirées", "en": "removed"},
    "used_by": {"it": " (usata da: {ids})", "de": " (verwendet von: {ids})", "fr": " (utilisée par : {ids})",
                "en": " (used by: {ids})"},
    "other": {"it": "altre modifiche nel YAML (regole, feedback o impostazioni): vedi il testo",
              "de": "weitere Änderungen im YAML (Regeln, Feedback oder Einstellungen): siehe Text",
              "fr": "autres changements dans le YAML (règles, feedback ou réglages) : voir le texte",
              "en": "other changes in the YAML (rules, feedback or settings): see the text"},
}


def text_for(key: str, lang: str) -> str:
    """The UI text ``key`` in ``lang`` (Italian when there is none)."""
    return _TEXTS[key].get(lang) or _TEXTS[key]["it"]


def describe_applicability(value: Any, lang: str = "it") -> str:
    """Applicability in words: "sempre", "se il nome del cliente è noto", "se: cliente_insoddisfatto"."""
    v = plain(value)
    if v == "always" or v is None:
        return text_for("always", lang)
    if v == {"name_known": True}:
        return text_for("name_known", lang)
    if isinstance(v, dict) and list(v) == ["condition"]:
        return text_for("condition", lang).format(name=v["condition"])
    return text_for("rule", lang).format(rule=one_line(v))


def _show(field: str, value: Any, lang: str) -> str:
    if field == "critical":
        return text_for("yes" if value else "no", lang)
    if field == "applicability":
        return describe_applicability(value, lang)
    if field == "weight" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if not isinstance(value, dict) else one_line(value)
