"""Hostile ``--state-dir`` files (issue 17, defect 5): random bit flips, truncations, inserted
and overwritten bytes in ``wal.log``, ``meta.json`` and the checkpoint. Opening the directory
either works, with a state that is some prefix of the logged writes (a torn tail), or raises
:class:`StateDirError` and leaves every file as it was: never another exception, never a
silent loss of a complete record.

Budget: ``MLEMU_FUZZ_EXAMPLES`` x 4 mutations (derandomized unless ``MLEMU_FUZZ_RANDOM=1``).
"""
from __future__ import annotations

import json
import os
import random
import shutil

import pytest

from mlemu.toolkit.statedir import StateDirError, open_state_dir
from mlemu.workspace import Workspace

EXAMPLES = 4 * int(os.environ.get("MLEMU_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("MLEMU_FUZZ_RANDOM", "") == "1"
WRITES = 8


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> str:
    """A checkpoint holding 3 experiments, then a log of ``WRITES`` more."""
    d = str(tmp_path_factory.mktemp("wal") / "s")
    for first, count in ((0, 3), (3, WRITES)):
        dw = open_state_dir(d, Workspace)
        for i in range(first, first + count):
            dw.handle("POST", "/api/2.0/mlflow/experiments/create", "",
                      {"Authorization": f"Bearer {dw.workspace.token}"}, json.dumps({"name": f"/Shared/e{i}"}).encode())
        dw.close()
    return d


def _mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    kind = rng.choice(["flip", "flip", "truncate", "insert", "overwrite", "zero-tail"])
    return kind, _apply(rng, kind, data)


def _apply(rng: random.Random, kind: str, data: bytes) -> bytes:
    buf = bytearray(data)
    if not buf:
        return bytes(rng.randbytes(rng.randint(1, 40)))
    at = rng.randrange(len(buf))
    if kind == "flip":
        buf[at] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del buf[at:]
    elif kind == "insert":
        buf[at:at] = rng.randbytes(rng.randint(1, 16))
    elif kind == "overwrite":
        buf[at:at + 8] = rng.randbytes(8)
    else:
        buf[at:] = bytes(len(buf) - at)
    return bytes(buf)


def _files(d: str) -> dict[str, bytes]:
    return {os.path.relpath(os.path.join(here, n), d): open(os.path.join(here, n), "rb").read()
            for here, _, names in os.walk(d) for n in names}


def _names(dw) -> list[str]:
    ws = dw.workspace
    _, _, out = ws.handle("POST", "/api/2.0/mlflow/experiments/search", "",
                          {"Authorization": f"Bearer {ws.token}"}, b'{"max_results": 1000}')
    return sorted((e["name"] for e in json.loads(out).get("experiments", []) if e["name"].startswith("/Shared/e")),
                  key=lambda n: int(n[len("/Shared/e"):]))


@pytest.mark.parametrize("example", range(EXAMPLES))
def test_hostile_state_files_are_refused_or_a_prefix(tmp_path, template, example):
    rng = random.Random(random.SystemRandom().random() if RANDOM else example)
    d = str(tmp_path / "s")
    shutil.copytree(template, d)
    target = rng.choice(["wal.log", "wal.log", "meta.json",
                         next(n for n in os.listdir(d) if n.startswith("checkpoint-"))])
    path = os.path.join(d, target)
    original = open(path, "rb").read()
    kind, mutated = _mutate(rng, original)
    open(path, "wb").write(mutated)
    before = _files(d)
    try:
        dw = open_state_dir(d, Workspace)
    except StateDirError as e:
        assert target in str(e) or "meta.json" in str(e)
        assert _files(d) == before
        return
    names = _names(dw)
    dw.close()
    full = [f"/Shared/e{i}" for i in range(3 + WRITES)]
    if target == "wal.log":
        assert names == full[:len(names)] and len(names) >= 3
        # nothing cut off or zeroed (what a crash leaves of its last write): every record is there
        if kind not in ("truncate", "zero-tail") and len(mutated) >= len(original):
            assert names == full
    else:  # meta.json and checkpoint damage is refused or harmless (e.g. inside a ZIP comment)
        assert names == full
