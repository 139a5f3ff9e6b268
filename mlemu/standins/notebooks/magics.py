"""IPython-style line magics inside Python cells (``%cd $notebook_path``, ``%pip install x``,
``!ls``), as Databricks' IPython kernel accepts them.

:func:`transform` rewrites each magic line that starts a statement into a call of the
runtime's dispatcher, ``__mlemu_magic__("cd", "$notebook_path")``, keeping its indentation and
line number, so the cell compiles as plain Python. A ``%``/``!`` inside brackets, strings or a
continued line is left alone. :func:`expand` substitutes ``$name``, ``${name}`` and
``{name}`` (names and attributes only: nothing is evaluated) as IPython does before a magic runs.
"""
from __future__ import annotations

import re
import shlex
from typing import Any, Mapping

DISPATCH = "__mlemu_magic__"

_MAGIC = re.compile(r"^(?P<indent>\s*)(?:(?P<target>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*)?"
                    r"(?P<magic>%%?[A-Za-z_][\w-]*|!)(?P<args>.*)$")
_DOLLAR = re.compile(r"\$\$|\$\{([A-Za-z_][\w.]*)\}|\$([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)|\{([A-Za-z_][\w.]*)\}")


def transform(code: str) -> str:
    """``code`` with each statement-starting magic line replaced by a dispatcher call."""
    lines = code.split("\n")
    if not any(line.lstrip().startswith(("%", "!")) or ("=" in line and re.search(r"=\s*[%!]", line))
               for line in lines):
        return code
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        # a cell magic owns the whole cell: one call (refused by name), the line count kept
        name, _, rest = lines[first].strip()[2:].partition(" ")
        body = "\n".join([rest] + lines[first + 1:])
        return "\n" * first + f"{DISPATCH}({'%' + name!r}, {body!r})" + "\n" * (len(lines) - first - 1)
    depth, quote, continued = 0, None, False
    out: list[str] = []
    for line in lines:
        at_start = depth == 0 and quote is None and not continued
        match = _MAGIC.match(line) if at_start else None
        if match and (match.group("magic") != "!" or match.group("args")[:1] not in ("=", "")):
            out.append(_call(match))
            continued = line.rstrip().endswith("\\")
            continue
        out.append(line)
        depth, quote, continued = _scan(line, depth, quote)
    return "\n".join(out)


def _call(match: re.Match) -> str:
    magic = match.group("magic")
    name = "!" if magic == "!" else magic[1:]
    args = match.group("args").strip() if magic != "!" else match.group("args").strip()
    call = f"{DISPATCH}({name!r}, {args!r})"
    target = match.group("target")
    return f"{match.group('indent')}{target} = {call}" if target else f"{match.group('indent')}{call}"


def _scan(line: str, depth: int, quote: str | None) -> tuple[int, str | None, bool]:
    """Bracket depth and open string after ``line``, and whether the next line continues it."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if quote is not None:
            if c == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if c == "#":
            break
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif c in "'\"":
            quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else c
            i += len(quote)
            continue
        i += 1
    backslash = line.rstrip().endswith("\\")
    if quote is not None and len(quote) == 1 and not backslash:
        quote = None                 # an unterminated one-line string: Python will say so
    return depth, quote, backslash and quote is None


def expand(text: str, namespaces: list[Mapping[str, Any]]) -> str:
    """IPython's variable expansion of a magic's arguments; unknown names stay as written."""
    def lookup(dotted: str) -> Any:
        head, *rest = dotted.split(".")
        for ns in namespaces:
            if head in ns:
                value = ns[head]
                for attr in rest:
                    value = getattr(value, attr)
                return value
        raise KeyError(dotted)

    def swap(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(2) or m.group(3)
        try:
            return str(lookup(name))
        except (KeyError, AttributeError):
            return m.group(0)

    return _DOLLAR.sub(swap, text)


def run_arguments(line: str) -> tuple[str, dict[str, str]]:
    """``%run ./path $a="1" $b=2`` -> ("./path", {"a": "1", "b": "2"})."""
    words = shlex.split(line, posix=True)
    if not words or words[0] != "%run":
        raise ValueError(f"Not a %run line: {line!r}")
    if len(words) < 2:
        raise ValueError("%run needs the path of a notebook")
    args: dict[str, str] = {}
    for word in words[2:]:
        name, sep, value = word.partition("=")
        if not sep or not name.startswith("$") or len(name) < 2:
            raise ValueError(f"%run arguments are written $name=\"value\": {word!r}")
        args[name[1:]] = value
    return words[1], args
