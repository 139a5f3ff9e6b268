"""Every code block in README.md and docs/ runs as written, as a user would run it.

* ``python`` blocks that define ``test_`` functions are test modules, run by a fresh pytest
  process with only mlemu's plugin (no conftest but a block the page marks as its
  ``conftest``), and every test in them must pass. Pages with a project of their own (file
  blocks), Spark or a session server get a process each; the other pages share one process,
  each in a directory of its own (one interpreter start instead of a dozen: the clients'
  imports cost seconds).
* Other ``python`` blocks are scripts, each run in a fresh interpreter.
* ``yaml``, ``toml``, ``json`` and ``sql`` blocks must parse (SQL with sqlglot's Databricks
  dialect, when installed).
* ``bash`` blocks run with ``bash -eu`` in a scratch directory, unless marked skip.
* ``text`` blocks (output, diagrams, file listings) are not run; a block without a language is
  refused, so nothing slips through untagged.

A block is steered by an HTML comment on the line before its fence:
``<!-- doc-test: skip REASON -->`` (never run; the reason is shown as the skip reason),
``<!-- doc-test: continue -->`` (the block continues the page's previous block of the same
language: one module or one script), ``<!-- doc-test: file PATH -->`` (the page's tests run
in a project directory holding this block at PATH: a ``conftest.py``, a seeding file, a test
module under ``tests/``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?:<!-- doc-test: (?P<directive>[^>]*?) -->\n)?```(?P<lang>[\w-]*)\n(?P<body>.*?)^```[ \t]*$",
                   re.S | re.M)
LANGUAGES = {"python", "bash", "yaml", "toml", "json", "sql", "text"}


@dataclasses.dataclass
class Block:
    page: pathlib.Path
    line: int
    lang: str
    body: str
    directive: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def file(self) -> str | None:
        """The path this block is written to in the page's project directory, if any."""
        return self.directive[5:].strip() if self.directive.startswith("file ") else None

    @property
    def skip_reason(self) -> str | None:
        if self.directive.startswith("skip"):
            return self.directive[4:].strip() or None
        return None


def blocks(page: pathlib.Path) -> list[Block]:
    """The page's blocks, with ``continue`` blocks joined to the previous one of their language."""
    text = page.read_text(encoding="utf-8")
    out: list[Block] = []
    for m in FENCE.finditer(text):
        block = Block(page, text.count("\n", 0, m.start("lang")) + 1, m.group("lang"), m.group("body"),
                      (m.group("directive") or "").strip())
        previous = next((b for b in reversed(out) if b.lang == block.lang), None)
        if block.directive == "continue" and previous is not None:
            # blank lines keep the line numbers of a traceback close to the page's
            previous.body += "\n" * 2 + block.body
            continue
        out.append(block)
    return out


ALL = [b for page in PAGES for b in blocks(page)]


def _env() -> dict[str, str]:
    """The environment of a user's shell: no pytest, Databricks or mlflow settings of ours (but
    CHILD_PYTEST_ADDOPTS: the examples' pytest runs without the plugins they do not use)."""
    from tests.conftest import CHILD_PYTEST_ADDOPTS

    return {**{k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST_", "DATABRICKS_", "MLFLOW_", "COV_"))},
            "PYTEST_ADDOPTS": CHILD_PYTEST_ADDOPTS}


def _bin_path() -> str:
    return os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])


def test_every_block_names_its_language():
    untagged = [b.where for b in ALL if b.lang not in LANGUAGES]
    assert untagged == [], f"tag these blocks with one of {sorted(LANGUAGES)} (``text`` for output): {untagged}"


def test_every_skip_gives_its_reason():
    assert [b.where for b in ALL if b.directive.startswith("skip") and not b.skip_reason] == []
    unknown = [b.where for b in ALL if b.directive and not b.directive.startswith(("skip", "file "))
               and b.directive != "continue"]
    assert unknown == []


def _is_test_module(block: Block) -> bool:
    return re.search(r"^(async )?def test_", block.body, re.M) is not None


def _is_page_test(block: Block) -> bool:
    return (block.lang == "python" and not block.skip_reason and _is_test_module(block)
            and (block.file is None or pathlib.PurePath(block.file).name.startswith("test_")))


PYTHON_PAGES = sorted({b.page for b in ALL if _is_page_test(b)})


def _needs_own_process(page: pathlib.Path) -> bool:
    """A page with a project of its own (file blocks), or a process-wide resource (Spark's JVM,
    the session server) runs alone, as a user would run it."""
    page_blocks = blocks(page)
    body = "\n".join(b.body for b in page_blocks if _is_page_test(b))
    return any(b.file for b in page_blocks) or "spark" in body or "mlemu_session_server" in body


OWN_PROCESS = [p for p in PYTHON_PAGES if _needs_own_process(p)]
SHARED = [p for p in PYTHON_PAGES if not _needs_own_process(p)]


def _expected(page: pathlib.Path) -> int:
    """How many tests the page's modules define."""
    modules = [b for b in blocks(page) if _is_page_test(b)]
    return sum(len(re.findall(r"^(?:async )?def test_", b.body, re.M)) for b in modules)


def _write_page(page: pathlib.Path, directory: pathlib.Path) -> int:
    """The page's test modules (and file blocks) under ``directory``; the number of tests."""
    page_blocks = blocks(page)
    modules = [b for b in page_blocks if _is_page_test(b)]
    directory.mkdir(parents=True, exist_ok=True)
    for i, block in enumerate(modules):
        if block.file is None:
            (directory / f"test_{page.stem.replace('-', '_')}_{i}.py").write_text(block.body)
    for block in (b for b in page_blocks if b.file):
        target = directory / block.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.body)
    return _expected(page)


def _run_pytest(directory: pathlib.Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:randomly",
                           *extra, str(directory)], cwd=directory, capture_output=True, text=True, env=_env(),
                          timeout=900)


def _check(page: pathlib.Path, returncode: int, counts: dict[str, int], expected: int, report: str) -> None:
    all_skipped = returncode == 5 and counts.get("skipped") and not counts.get("failed")  # 5: none collected
    assert returncode == 0 or all_skipped, f"{page.name}'s examples fail:\n{report}"
    ran = counts.get("passed", 0) + counts.get("skipped", 0)
    # Every test ran; a module skipped whole (a feature of another mlflow) counts once.
    assert ran == expected or (counts.get("skipped") and ran < expected), report


@pytest.mark.parametrize("page", OWN_PROCESS, ids=lambda p: p.name)
def test_the_page_tests_pass(page, tmp_path):
    expected = _write_page(page, tmp_path)
    done = _run_pytest(tmp_path)
    report = done.stdout[-6000:] + done.stderr[-3000:]
    counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|skipped|failed|error)", done.stdout))
    _check(page, done.returncode, counts, expected, report)


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory) -> dict[str, tuple[int, dict[str, int], str]]:
    """One pytest process for the SHARED pages: page name -> (exit-like code, counts, report)."""
    import xml.etree.ElementTree as ET

    root = tmp_path_factory.mktemp("doc-pages")
    dirs = {page.name: "page_" + page.stem.replace("-", "_").replace(".", "_") for page in SHARED}
    for page in SHARED:
        _write_page(page, root / dirs[page.name])
    done = _run_pytest(root, f"--junitxml={root / 'report.xml'}")
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    if not (root / "report.xml").exists():
        return {name: (done.returncode or 1, {}, tail) for name in dirs}
    out = {}
    cases = list(ET.parse(root / "report.xml").getroot().iter("testcase"))
    for name, directory in dirs.items():
        counts: dict[str, int] = {}
        failures = []
        for case in (c for c in cases if (c.get("classname") or "").startswith(directory + ".")):
            problem = next((case.find(k) for k in ("failure", "error") if case.find(k) is not None), None)
            kind = "failed" if problem is not None else "skipped" if case.find("skipped") is not None else "passed"
            counts[kind] = counts.get(kind, 0) + 1
            if problem is not None:
                failures.append(f"{case.get('classname')}::{case.get('name')}\n{(problem.text or '')[-3000:]}")
        code = 1 if failures else 0 if counts.get("passed") else 5
        out[name] = (code, counts, "\n".join(failures) or tail)
    return out


@pytest.mark.parametrize("page", SHARED, ids=lambda p: p.name)
def test_the_shared_page_tests_pass(page, shared_run):
    code, counts, report = shared_run[page.name]
    _check(page, code, counts, _expected(page), report)


SCRIPTS = [b for b in ALL if b.lang == "python" and not b.skip_reason and b.file is None
           and not _is_test_module(b)]


@pytest.mark.parametrize("block", SCRIPTS, ids=lambda b: b.where)
def test_the_script_runs(block, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(block.body)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          env=_env(), timeout=600)
    assert done.returncode == 0, f"{block.where} fails:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"


SHELL = [b for b in ALL if b.lang == "bash"]


@pytest.mark.parametrize("block", SHELL, ids=lambda b: b.where)
def test_the_shell_block_runs(block, tmp_path):
    if block.skip_reason:
        pytest.skip(f"{block.where}: {block.skip_reason}")
    env = {**_env(), "PATH": _bin_path(), "MLEMU_REPO": str(ROOT)}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.body], cwd=tmp_path, capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, f"{block.where} fails:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"


DATA = [b for b in ALL if b.lang in ("yaml", "toml", "json", "sql")]


@pytest.mark.parametrize("block", DATA, ids=lambda b: b.where)
def test_the_data_block_parses(block):
    if block.skip_reason:
        pytest.skip(f"{block.where}: {block.skip_reason}")
    if block.lang == "yaml":
        import yaml

        yaml.safe_load(block.body)
    elif block.lang == "toml":
        tomllib = pytest.importorskip("tomllib", reason="TOML blocks need Python 3.11's tomllib")
        tomllib.loads(block.body)
    elif block.lang == "json":
        json.loads(block.body)
    else:
        sqlglot = pytest.importorskip("sqlglot", reason="SQL blocks are parsed with sqlglot (mlemu[sql])")
        sqlglot.parse(block.body, read="databricks")
