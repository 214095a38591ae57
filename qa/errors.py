"""Errors that the CLI turns into one clear line and an exit code (never a traceback)."""

from __future__ import annotations

# Exit codes shared by every `qa` command (README.md, "Command line").
EXIT_OK = 0  # everything asked for was done
EXIT_PARTIAL = 1  # some inputs failed, the others were processed
EXIT_USAGE = 2  # the command line itself was wrong (argparse uses 2 too): UsageError
EXIT_FAILED = 3  # nothing could be done (every input failed, or a fatal error)
EXIT_GATE = 4  # the work was done and a gate refused its result: GateRefused (kappa, model, publication, fairness)


class QAError(Exception):
    """An expected failure with a message meant for a person.

    ``str(err)`` is one line; ``source`` names the file or object it is about.
    """

    def __init__(self, message: str, source: str | None = None):
        self.message = " ".join(str(message).split())  # always one line
        self.source = source
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class AudioError(QAError):
    """A recording that cannot be decoded or is not acceptable."""


class TranscriptFormatError(QAError):
    """A transcript JSON that does not follow FORMATS.md."""


class RubricError(QAError):
    """A rubric file that is not valid (syntax, unknown key, bad reference...)."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None):
        self.line = line
        super().__init__(message, source)

    def __str__(self) -> str:
        where = self.source or "rubric"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class ModelError(QAError):
    """A model that is missing, corrupt or fails its checksum."""


class StoreError(QAError):
    """A problem with the call store (database or data directory)."""


class UsageError(QAError):
    """The command line asks for something that cannot be done (options that exclude each other,
    a missing argument, a value out of range): exit code EXIT_USAGE."""


class GateRefused(QAError):
    """A gate refused: agreement below the required kappa, a model worse than the current one, a
    rubric version that may not be published, criterion results that flip under the fairness
    check. Exit code EXIT_GATE."""
