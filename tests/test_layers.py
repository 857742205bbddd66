"""Lint-like tests of the layers: what may import what (read with :mod:`ast`, not run).

- ``sim`` and ``strategies`` (the library) import nothing of the app: not
  ``experiments``, ``hydra_plugins``, Hydra or OmegaConf, not even inside a function.
- Hydra's private API (``hydra._internal``, a plugin's ``_core``) is imported by
  :mod:`experiments.hydra_internals` only, which checks the installed version once.
- ``experiments`` and ``hydra_plugins`` form no import cycle, counting the imports inside
  functions (which hide a cycle from Python but not from a reader).
- No function in ``sim``, ``strategies``, ``experiments`` or ``hydra_plugins`` is over 80
  lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ("experiments", "hydra_plugins", "hydra", "omegaconf")
INTERNALS = "experiments/hydra_internals.py"


def _modules(*packages: str) -> dict[str, Path]:
    """``{dotted module name: path}`` of every .py file under the packages."""
    out = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(path: Path, module: str) -> list[tuple[str, int]]:
    """Every module ``path`` imports (top level and inside functions), with its line.

    ``from a import b`` yields ``a`` and ``a.b`` (``b`` may be a module); relative
    imports are resolved against ``module``.
    """
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*parent, *([base] if base else [])])
            out.append((base, node.lineno))
            out += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return out


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("module, path", list(_modules("sim", "strategies").items()))
def test_library_imports_nothing_of_the_app(module, path):
    bad = [f"line {line}: {name}" for name, line in _imports(path, module)
           if any(_within(name, app) for app in APP)]
    assert not bad, f"{module} imports the app layer: {bad}"


def test_only_one_module_uses_hydra_internals():
    found = []
    for module, path in _modules("sim", "strategies", "experiments", "hydra_plugins",
                                 "tests", "benchmarks").items():
        if path.relative_to(ROOT).as_posix() == INTERNALS:
            continue
        for name, line in _imports(path, module):
            parts = name.split(".")
            if _within(name, "hydra._internal") or (
                    parts[0] == "hydra_plugins" and "_core" in parts):
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not found, f"Hydra internals imported outside {INTERNALS}: {found}"
    assert any(_within(name, "hydra._internal")
               for name, _ in _imports(ROOT / INTERNALS, "experiments.hydra_internals"))


def _graph() -> dict[str, set[str]]:
    modules = _modules("experiments", "hydra_plugins")
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name, _ in _imports(path, module):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as a list of nodes (first repeated last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = visit(nxt, [*path, node])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [])
            if found:
                return found
    return None


def test_cycle_finder_finds_a_hidden_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_app_layer_has_no_import_cycle():
    graph = _graph()
    assert "experiments.run" in graph and "hydra_plugins.retrain_sim.launcher" in graph
    cycle = _cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_hydra_internals_check_the_version_once():
    from experiments import hydra_internals

    hydra_internals.check_version("1.3.2")
    with pytest.raises(ImportError, match=r"hydra-core must be >=1\.3,<1\.4.*Got 1\.4\.0"):
        hydra_internals.check_version("1.4.0")


def test_tested_hydra_range_is_the_one_pyproject_pins():
    import re

    from packaging.specifiers import SpecifierSet

    from experiments.hydra_internals import TESTED_HYDRA

    pinned = re.findall(r'^\s*"hydra-core([^"]*)"', (ROOT / "pyproject.toml").read_text(),
                        flags=re.MULTILINE)
    assert [SpecifierSet(s) for s in pinned] == [SpecifierSet(TESTED_HYDRA)]


def _run_python(code: str) -> str:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout.strip()


def test_importing_sim_and_its_displays_loads_no_plotting_or_app():
    loaded = _run_python(
        "import sys, sim, sim.display, sim.compare\n"
        "print(sorted(m for m in ('matplotlib', 'experiments', 'hydra', 'omegaconf')"
        " if m in sys.modules))")
    assert loaded == "[]"


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch):
    import sys

    from sklearn.linear_model import LogisticRegression

    from sim import replay
    from sim.scripted import AtSteps
    from sim.streams import SEA

    result = replay(SEA(n_samples=10_000), LogisticRegression(), AtSteps([]))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="needs matplotlib.*pip install matplotlib"):
        result.plot()


MAX_FUNCTION_LINES = 80


def _long_functions(path: Path) -> list[str]:
    """``name (lines, line)`` of every function in ``path`` longer than the limit.

    A function's length counts its ``def`` line to its last line, docstring included,
    decorators not.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    return [f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_length_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n\n\ndef short():\n    pass\n")
    assert _long_functions(tmp_path / "long.py") == [
        f"long ({MAX_FUNCTION_LINES + 1} lines, line 1)"]


@pytest.mark.parametrize("module, path", list(
    _modules("sim", "strategies", "experiments", "hydra_plugins").items()))
def test_no_function_over_80_lines(module, path):
    """A function a reader can hold in view: split by meaning beyond 80 lines (issue 23)."""
    assert not _long_functions(path), f"{module}: {_long_functions(path)}"
