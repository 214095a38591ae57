"""Call metadata from a CSV file (``qa transcribe --metadata calls.csv``).

Columns: ``file,call_id,agent_id,agent_name,team,customer_name,call_type,direction,started_at``.
``file`` is required; every other column is optional (``call_id`` defaults to the file stem).
Extra columns are kept as metadata (FORMATS.md keeps unknown metadata keys). ``file`` matches
an input by file name, with or without its directory. UTF-8 (with or without BOM); comma,
semicolon or tab separated (spreadsheets in Italian/German locales write semicolons).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath

from .constants import CALL_TYPES
from .errors import QAError

COLUMNS = ("file", "call_id", "agent_id", "agent_name", "team", "customer_name", "call_type",
           "direction", "started_at")
DIRECTIONS = ("inbound", "outbound")


class MetadataError(QAError):
    """A metadata CSV that cannot be used."""


@dataclass
class MetadataTable:
    """A calls.csv read and checked: one row per recording (``file`` plus metadata columns),
    ``source`` the CSV's path for messages."""

    source: str
    rows: list[dict[str, str]] = field(default_factory=list)

    def lookup(self, audio_path: str | Path) -> dict[str, str] | None:
        """The row for ``audio_path`` (matched by name; a row naming folders must match them
        as the tail of the path), or None."""
        parts = PurePath(str(audio_path)).parts
        best, best_len = None, -1
        for row in self.rows:
            want = PurePath(row["file"].replace("\\", "/")).parts
            want = tuple(p for p in want if p not in (".", ""))
            if want and len(want) <= len(parts) and tuple(parts[-len(want):]) == want and len(want) > best_len:
                best, best_len = row, len(want)
        if best is None:
            return None
        return {k: v for k, v in best.items() if k != "file" and v != ""}

    def __len__(self) -> int:
        return len(self.rows)


def load_metadata(path: str | Path) -> MetadataTable:
    """Read and check a calls.csv; ``MetadataError`` (one line, file and row) when it is not valid."""
    src = str(path)
    p = Path(path)
    if not p.exists():
        raise MetadataError("metadata file not found", src)
    if p.is_dir():
        raise MetadataError("is a directory, not a CSV file", src)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MetadataError("not UTF-8 text (save the CSV as UTF-8)", src) from None
    if not text.strip():
        raise MetadataError("empty file", src)
    first = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as e:
        raise MetadataError(f"not valid CSV at line {reader.line_num}: {e}", src) from None
    header = [h.strip().lower() for h in rows[0]]
    if "file" not in header:
        raise MetadataError(f"no 'file' column in the header (expected columns: {','.join(COLUMNS)})", src)
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise MetadataError(f"column {dup[0]!r} appears twice in the header", src)
    if any(h == "" for h in header):
        raise MetadataError("an empty column name in the header", src)

    table = MetadataTable(source=src)
    seen_files: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for lineno, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue  # blank line
        if len(values) != len(header):
            raise MetadataError(f"line {lineno}: {len(values)} fields, the header has {len(header)}", src)
        row = {h: v.strip() for h, v in zip(header, values)}
        where = f"line {lineno}"
        if not row["file"]:
            raise MetadataError(f"{where}: empty 'file'", src)
        if row["file"] in seen_files:
            raise MetadataError(f"{where}: file {row['file']!r} already listed on line {seen_files[row['file']]}", src)
        seen_files[row["file"]] = lineno
        cid = row.get("call_id", "")
        if cid:
            if cid in seen_ids:
                raise MetadataError(f"{where}: call_id {cid!r} already used on line {seen_ids[cid]}", src)
            seen_ids[cid] = lineno
        ct = row.get("call_type", "")
        if ct and ct not in CALL_TYPES:
            raise MetadataError(f"{where}: call_type {ct!r} is not one of {', '.join(CALL_TYPES)}", src)
        d = row.get("direction", "")
        if d and d not in DIRECTIONS:
            raise MetadataError(f"{where}: direction {d!r} is not inbound or outbound", src)
        st = row.get("started_at", "")
        if st:
            try:
                datetime.fromisoformat(st.replace("Z", "+00:00"))
            except ValueError:
                raise MetadataError(
                    f"{where}: started_at {st!r} is not an ISO 8601 date-time (e.g. 2026-11-02T10:15:00+01:00)", src
                ) from None
        table.rows.append(row)
    return table
