"""Databricks notebook source, split into cells.

A notebook exported as SOURCE is a plain file: a header line (``# Databricks notebook source``
for Python, ``-- Databricks notebook source`` for SQL), cells separated by
``# COMMAND ----------`` lines, cells of another language written as ``# MAGIC %sql ...``
comment lines, and a cell title as a first ``# DBTITLE 1,Title`` line. This module turns such
text into :class:`SourceCell` values (kind, body, title, first line in the file) and does
nothing else: running them is :mod:`.runtime`'s job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from mlemu.standins.notebooks.errors import NotebookSourceError

#: Header line -> (the notebook's language, its line-comment prefix).
HEADERS = {
    "# Databricks notebook source": ("python", "#"),
    "-- Databricks notebook source": ("sql", "--"),
    "// Databricks notebook source": ("scala", "//"),
}

#: Cell magics Databricks knows, by the kind of cell they make. ``%python`` in a Python
#: notebook is an ordinary Python cell; ``%md-sandbox`` renders like ``%md``.
CELL_MAGICS = {
    "md": "md", "md-sandbox": "md", "sql": "sql", "python": "python", "run": "run", "pip": "pip",
    "restart_python": "restart_python", "sh": "sh", "fs": "fs", "scala": "scala", "r": "r",
    "conda": "conda",
}

#: Magics that are IPython line magics too: on a plain first line they stay in a Python cell.
_LINE_MAGICS = ("python", "pip", "restart_python", "conda")

_MAGIC_WORD = re.compile(r"%([A-Za-z_][\w-]*)")


@dataclass(frozen=True)
class SourceCell:
    """One cell as written: ``kind`` says how it runs, ``body`` is its code without the magic
    prefix (``# MAGIC``) or the cell magic's first word (``%sql``), ``line`` the 1-based line
    of the body's first line in the file (tracebacks point there)."""

    index: int
    kind: str
    source: str          # the cell's text as the file shows it (without the DBTITLE line)
    body: str
    line: int
    title: str | None = None


def is_notebook_source(text: str) -> bool:
    return _header(text) is not None


def language_of(text: str) -> str | None:
    header = _header(text)
    return HEADERS[header][0] if header else None


def parse(text: str, path: str = "<notebook>") -> list[SourceCell]:
    """The cells of a notebook source file; :class:`NotebookSourceError` when ``text`` is not one."""
    header = _header(text)
    if header is None:
        raise NotebookSourceError(
            f"{path} is not Databricks notebook source: its first line must be one of "
            + ", ".join(repr(h) for h in HEADERS) + ".")
    language, comment = HEADERS[header]
    if language == "scala":
        raise NotebookSourceError(f"{path} is a Scala notebook; mlemu runs Python and SQL notebooks only.")
    lines = text.lstrip("\ufeff").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip()) + 1   # after the header
    separator = re.compile(rf"^{re.escape(comment)} COMMAND -{{10}}\s*$")
    cells: list[SourceCell] = []
    chunk: list[str] = []
    chunk_start = start
    for number, line in enumerate(lines[start:], start=start):
        if separator.match(line):
            _add(cells, chunk, chunk_start, language, comment)
            chunk, chunk_start = [], number + 1
        else:
            chunk.append(line)
    _add(cells, chunk, chunk_start, language, comment)
    return cells


def _header(text: str) -> str | None:
    first = text.lstrip("\ufeff").lstrip().split("\n", 1)[0].strip()
    return first if first in HEADERS else None


def _add(cells: list[SourceCell], chunk: list[str], first: int, language: str, comment: str) -> None:
    """Append the cell made of ``chunk`` (lines from 0-based ``first``), without the blank lines
    around it; an empty chunk is no cell."""
    while chunk and not chunk[0].strip():
        chunk, first = chunk[1:], first + 1
    while chunk and not chunk[-1].strip():
        chunk = chunk[:-1]
    if not chunk:
        return
    title = None
    title_match = re.match(rf"^{re.escape(comment)} DBTITLE \d+,(.*)$", chunk[0])
    if title_match:
        title = title_match.group(1).strip()
        chunk, first = chunk[1:], first + 1
    source = "\n".join(chunk)
    magic = f"{comment} MAGIC"
    if chunk and chunk[0].startswith(magic):
        code = [_unmagic(line, magic) for line in chunk]
        kind, body, skipped = _magic_kind(code, language)
        cells.append(SourceCell(len(cells), kind, source, body, first + 1 + skipped, title))
        return
    word = _MAGIC_WORD.match(chunk[0].strip())
    if word and CELL_MAGICS.get(word.group(1).lower(), "python") not in _LINE_MAGICS:
        # A cell magic on a plain first line (a file edited outside Databricks) counts too.
        kind, body, skipped = _magic_kind(chunk, language)
        cells.append(SourceCell(len(cells), kind, source, body, first + 1 + skipped, title))
        return
    cells.append(SourceCell(len(cells), language, source, source, first + 1, title))


def _unmagic(line: str, magic: str) -> str:
    if line.startswith(magic + " "):
        return line[len(magic) + 1:]
    if line.startswith(magic):
        return line[len(magic):]
    return line


def _magic_kind(code: list[str], language: str) -> tuple[str, str, int]:
    """(kind, body, lines dropped before the body) of a ``# MAGIC`` cell. A cell whose first
    word is a Databricks cell magic becomes that kind with the rest as its body (``%run`` and
    ``%pip`` keep their whole line); anything else (``%load_ext autoreload``, IPython line
    magics) is a cell of the notebook's own language."""
    first = code[0].strip()
    match = _MAGIC_WORD.match(first)
    word = match.group(1).lower() if match else ""
    kind = CELL_MAGICS.get(word)
    if match is None or kind is None:
        return language, "\n".join(code), 0
    if kind in ("run", "pip", "fs", "conda"):
        return kind, "\n".join(code), 0
    rest = first[match.end():].strip()
    body_lines = ([rest] if rest else []) + code[1:]
    return kind, "\n".join(body_lines), 0 if rest else 1
