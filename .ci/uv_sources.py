"""Print the `uv pip install` options that give uv the package sources pip is configured with.

uv reads no pip configuration (pip.conf, PIP_* variables): the find-links folders, the index and
extra index URLs and the constraint files pip would use are read here from `pip config list`
(which merges the files and the PIP_* environment) and passed on, so that uv installs from the
same places under the same caps as pip would (torch stays the local CPU build). The index strategy
is pip's: the best version across all sources, not the first source that has the package.
Run with the venv's python: `python .ci/uv_sources.py`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

OPTIONS = {"find-links": "--find-links", "index-url": "--index-url", "extra-index-url": "--extra-index-url",
           "constraint": "--constraint"}


def pip_config() -> dict[str, list[str]]:
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    found: dict[str, list[str]] = {}
    for line in out.splitlines():  # e.g. global.find-links='/opt/wheels'  or  :env:.constraint='a b'
        key, _, value = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if name in OPTIONS:
            for v in shlex.split(value)[0].split() if value else []:
                if v not in found.setdefault(name, []):
                    found[name].append(v)
    return found


def main() -> None:
    args = ["--index-strategy", "unsafe-best-match"]
    for name, values in pip_config().items():
        for v in values:
            args += [OPTIONS[name], v]
    print(" ".join(shlex.quote(a) for a in args))


if __name__ == "__main__":
    main()
