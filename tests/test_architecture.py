"""The layout's contracts, read from the source: imports flow one way, no import cycles, no
private names used across modules, short functions, no machine paths.

Which layer may import which (``docs/architecture.md`` draws it):

* ``core`` (the kernel) imports nothing of the project;
* ``text``, ``rules``, ``models``, ``eval`` and ``workbench`` import only ``core``;
* ``training`` imports ``core``, ``models`` and ``text``;
* the runtime (``coder``, ``io``, ``batch``, ``benchmark``, ``frontend_effect``, ``serve``) composes
  ``core``, ``text``, ``models``, ``rules`` and ``workbench``;
* the CLI composes everything, and nothing imports it (but ``python -m clincoder``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"pipeline": "clincoder", "models": "clincoder.models", "training": "clincoder.training",
         "eval": "clincoder.eval"}
ALLOWED = {
    "core": {"core"},
    "text": {"core", "text"},
    "rules": {"core", "rules"},
    "models": {"core", "models"},
    "eval": {"core", "eval"},
    "training": {"core", "models", "text", "training"},
    "workbench": {"core", "workbench"},
    "runtime": {"core", "text", "models", "rules", "workbench", "runtime"},
    "cli": {"core", "text", "models", "rules", "workbench", "runtime", "eval", "training", "cli"},
    "main": {"cli"},
}
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in ROOTS.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            name = ".".join((package, *parts))
            out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "runtime"  # clincoder/__init__: the version
    if parts[1] in ("core", "text", "rules", "models", "eval", "training", "workbench", "cli"):
        return parts[1]
    return "main" if parts[1] == "__main__" else "runtime"


def _imports(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports, anywhere in the file (function-level too)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = module.split(".")
            if node.level:
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("clincoder") and name != module:
                found.add(name)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_package_is_found():
    for name in ("clincoder.core.codes", "clincoder.text.prepare", "clincoder.rules.engine", "clincoder.models.ranker",
                 "clincoder.training.ranker", "clincoder.eval.report", "clincoder.coder", "clincoder.cli"):
        assert name in MODULES


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_flow_one_way(module):
    mine = _layer(module)
    bad = sorted(m for m in GRAPH[module] if _layer(m) not in ALLOWED[mine])
    assert not bad, f"{module} ({mine}) may import only {sorted(ALLOWED[mine])}, but imports {bad}"


def test_no_import_cycles():
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def _python_files():
    return sorted(p for folder in ROOTS for p in (REPO / folder).rglob("*.py")) + sorted((REPO / "tests").rglob("*.py"))


def test_no_private_names_imported_across_modules():
    bad = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("clincoder")):
                bad += [f"{path.relative_to(REPO)}: {a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    assert not bad, f"private names imported from another module: {bad}"


def test_functions_are_short():
    long = []
    for folder in ROOTS:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = node.end_lineno - node.lineno + 1
                    if n > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_no_machine_paths_in_the_package():
    pattern = re.compile(r"['\"](/work/|/home/|/root/|/Users/|C:\\\\)")
    hits = [f"{p.relative_to(REPO)}:{n}" for folder in ROOTS for p in (REPO / folder).rglob("*.py")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not hits, f"machine paths: {hits}"
