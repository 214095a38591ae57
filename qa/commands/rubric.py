"""qa rubric validate PATH... | qa rubric list | qa rubric show NAME: work with rubrics."""

from __future__ import annotations

import sys

from ..errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL


def register(sub) -> None:
    """Add ``qa rubric validate|list|show``."""
    p = sub.add_parser("rubric", help="validate, list or show rubrics",
                       description="Rubrics are YAML files in rubriche/ (rule language: docs/RUBRIC_LANGUAGE.md).")
    rsub = p.add_subparsers(dest="rubric_command", metavar="ACTION")
    v = rsub.add_parser("validate", help="check rubric files; every problem with file, line and reason")
    v.add_argument("paths", nargs="+", metavar="PATH", help="rubric YAML file or rubric name")
    v.set_defaults(func=run_validate)
    ls = rsub.add_parser("list", help="the rubrics one can score with")
    ls.set_defaults(func=run_list)
    sh = rsub.add_parser("show", help="criteria of a rubric (id, competence, weight, critical, title)")
    sh.add_argument("name", metavar="NAME|PATH")
    sh.set_defaults(func=run_show)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_validate(args) -> int:
    """Validate each rubric; every problem on one line (file:line: reason). Exit 1 when some are invalid,
    3 when all are."""
    from ..rubric import validate_rubric

    bad = 0
    for path in args.paths:
        errors = validate_rubric(path)
        if errors:
            bad += 1
            for e in errors:
                print(str(e), file=sys.stderr)
        else:
            print(f"{path}: ok")
    if bad == 0:
        return EXIT_OK
    return EXIT_FAILED if bad == len(args.paths) else EXIT_PARTIAL


def run_list(args) -> int:
    """The rubrics one can score with, one per line."""
    from ..rubric import list_rubrics

    for name in list_rubrics():
        print(name)
    return EXIT_OK


def run_show(args) -> int:
    """A rubric's criteria: id, competence, weight, critical, title."""
    from ..rubric import load_rubric

    r = load_rubric(args.name)
    print(f"{r.name} {r.version} ({r.path})")
    for c in r.criteria:
        print(f"  {c.id:24s} {c.competence:14s} weight={c.weight:g}{' critical' if c.critical else ''}  {c.title}")
    return EXIT_OK
