"""``${bundle.git.*}``: the origin URL, branch and commit of the Git checkout holding a bundle,
read from its ``.git`` directory (no ``git`` process), as the Databricks CLI fills them in.
Outside a checkout they are empty."""
from __future__ import annotations

import configparser
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class GitInfo:
    origin_url: str = ""
    branch: str = ""
    commit: str = ""


def git_info(start: str) -> GitInfo:
    git_dir = _find_git_dir(os.path.abspath(start))
    if git_dir is None:
        return GitInfo()
    head = _read(os.path.join(git_dir, "HEAD")).strip()
    branch, commit = "", ""
    if head.startswith("ref: "):
        ref = head[5:].strip()
        branch = ref.removeprefix("refs/heads/")
        commit = _read(os.path.join(git_dir, *ref.split("/"))).strip() or _packed_ref(git_dir, ref)
    else:
        commit = head
    return GitInfo(_origin(git_dir), branch, commit)


def _find_git_dir(path: str) -> str | None:
    while True:
        candidate = os.path.join(path, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):  # a worktree or submodule: "gitdir: <path>"
            text = _read(candidate).strip()
            if text.startswith("gitdir:"):
                target = text[7:].strip()
                return target if os.path.isabs(target) else os.path.normpath(os.path.join(path, target))
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


def _packed_ref(git_dir: str, ref: str) -> str:
    common = _common_dir(git_dir)
    for line in _read(os.path.join(common, "packed-refs")).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref:
            return parts[0]
    loose = _read(os.path.join(common, *ref.split("/"))).strip()
    return loose


def _common_dir(git_dir: str) -> str:
    common = _read(os.path.join(git_dir, "commondir")).strip()
    return os.path.normpath(os.path.join(git_dir, common)) if common else git_dir


def _origin(git_dir: str) -> str:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read(os.path.join(_common_dir(git_dir), "config"), encoding="utf-8")
    except configparser.Error:
        return ""
    return parser.get('remote "origin"', "url", fallback="")
