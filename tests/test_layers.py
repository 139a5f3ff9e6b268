"""The import graph points down: server (core <- domain state <- wire <- plugin registry;
transports) <- stand-ins <- the Workspace composition root <- toolkit (emulate()/fixtures) <- CLI,
and has no cycles.

Layers: every import counts (module level, inside functions, under ``TYPE_CHECKING``).
Cycles: the runtime graph (type-only references between a module and its helpers are fine).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mlemu"

#: package prefix -> prefixes it must never import. The top level has three parts: the server
#: side (``mlemu.server``), the client-side stand-ins (``mlemu.standins``) and the test toolkit
#: (``mlemu.toolkit``); ``mlemu.workspace`` (the composition root) and ``mlemu.cli`` sit above.
_ABOVE_SERVER = ("mlemu.workspace", "mlemu.standins", "mlemu.toolkit", "mlemu.cli")
FORBIDDEN = {
    "mlemu.server.core": ("mlemu.server.wire", "mlemu.server.services", "mlemu.server.transport",
                          "mlemu.server.plugins", "mlemu.server.hookspecs", "mlemu.server.ui", *_ABOVE_SERVER),
    "mlemu.server.wire": ("mlemu.server.services", "mlemu.server.transport", "mlemu.server.plugins",
                          "mlemu.server.ui", *_ABOVE_SERVER),
    "mlemu.server.services": ("mlemu.server.transport", "mlemu.server.plugins", "mlemu.server.ui", *_ABOVE_SERVER),
    "mlemu.server.transport": ("mlemu.server.wire", "mlemu.server.services", "mlemu.server.plugins",
                               "mlemu.server.ui", *_ABOVE_SERVER),
    "mlemu.server.plugins": ("mlemu.server.transport", "mlemu.server.ui", *_ABOVE_SERVER),
    "mlemu.server.hookspecs": ("mlemu.server.transport", "mlemu.server.ui", *_ABOVE_SERVER),
    # The MLflow UI front is served in front of a Workspace (it names the class for types only).
    "mlemu.server.ui": ("mlemu.standins", "mlemu.toolkit", "mlemu.cli"),
    # Client-side stand-ins (no HTTP seam) use domain state and the transport's active workspace.
    "mlemu.standins": ("mlemu.server.wire", "mlemu.server.plugins", "mlemu.server.ui", "mlemu.workspace",
                       "mlemu.toolkit", "mlemu.cli"),
    # Snapshots and the control plane sit under the composition root, which offers them as methods.
    "mlemu.toolkit.persistence": ("mlemu.server.wire", "mlemu.server.ui", "mlemu.workspace", "mlemu.standins",
                                  "mlemu.toolkit.emulation", "mlemu.toolkit.pytest_plugin", "mlemu.cli"),
    "mlemu.toolkit.control": ("mlemu.server.wire", "mlemu.server.ui", "mlemu.standins",
                              "mlemu.toolkit.emulation", "mlemu.toolkit.pytest_plugin", "mlemu.cli"),
    "mlemu.toolkit": ("mlemu.cli",),
    "mlemu.workspace": ("mlemu.server.ui", "mlemu.standins", "mlemu.toolkit.emulation",
                        "mlemu.toolkit.pytest_plugin", "mlemu.toolkit.builders", "mlemu.cli"),
}
#: Named exceptions to FORBIDDEN. The composition root registers the job task runners (client
#: stand-ins the jobs service finds through a hook) as a built-in plugin of every workspace;
#: the package holds only the hook implementation and imports the runners when a task runs.
ALLOWED = {("mlemu.workspace", "mlemu.standins.job_tasks")}


def test_top_level_shows_the_three_parts():
    """Everything but the package's entry points lives in one of the three parts."""
    top = sorted(p.name for p in ROOT.iterdir() if not p.name.startswith(("_", ".")) or p.name == "__init__.py")
    assert top == ["__init__.py", "cli.py", "server", "standins", "toolkit", "workspace.py"], top


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_only_nodes(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids.update(id(n) for child in node.body for n in ast.walk(child))
    return ids


def _imports(path: Path, runtime_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    skip = _type_only_nodes(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # "from pkg import module"
    return {m for m in out if m == "mlemu" or m.startswith("mlemu.")}


def _graph(runtime_only: bool = False) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path, runtime_only)
                       if m in modules and m != name and m != "mlemu"}
    return graph


GRAPH = _graph()
RUNTIME_GRAPH = _graph(runtime_only=True)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down(layer):
    bad = sorted(f"{mod} -> {dep}" for mod, deps in GRAPH.items()
                 if mod == layer or mod.startswith(layer + ".")
                 for dep in deps if (mod, dep) not in ALLOWED
                 and any(dep == f or dep.startswith(f + ".") for f in FORBIDDEN[layer]))
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_import_graph_has_no_cycles():
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(RUNTIME_GRAPH.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(RUNTIME_GRAPH):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
