"""The `qa` command line. Every sub-command lives in ``qa/commands/<name>.py`` and is a thin
call into a library function; this module only finds them, parses, and turns failures into
one clear line plus an exit code (see ``qa.errors``). Set QA_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from . import __version__, commands
from .errors import EXIT_FAILED, EXIT_GATE, EXIT_USAGE, GateRefused, QAError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse, with errors on one line."""

    def error(self, message: str):
        """One line, exit 2, like argparse but without the usage dump."""
        self.exit(EXIT_USAGE, f"qa: error: {message} (see 'qa {self.prog.split(' ', 1)[-1]} --help')\n"
                  if " " in self.prog else f"qa: error: {message} (see 'qa --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``qa`` parser with every command module of ``qa/commands/`` registered."""
    parser = _Parser(prog="qa", description="Ascolto: quality monitoring for contact-centre calls.")
    parser.add_argument("--version", action="version", version=f"ascolto {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``qa`` with ``argv``; the exit code (``qa.errors``): 0 all done, 1 partly done, 2 usage
    error, 3 nothing done, 4 a gate refused."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        code = args.func(args)
        return EXIT_FAILED if code is None else int(code) if code is not True else 0
    except QAError as e:
        print(f"qa: error: {e}", file=sys.stderr)
        return EXIT_USAGE if isinstance(e, UsageError) else EXIT_GATE if isinstance(e, GateRefused) else EXIT_FAILED
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # last resort: still one line, never a traceback
        if os.environ.get("QA_DEBUG"):
            raise
        print(f"qa: internal error: {type(e).__name__}: {' '.join(str(e).split())} (QA_DEBUG=1 shows details)",
              file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
