"""The shape of the code (docs/architecture.md): features use each other's services, never
their views; the base (core, auth and the top-level modules) imports no feature; and no
two features import each other, not even inside a function (imports under
``TYPE_CHECKING`` are for type checkers only and do not count)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "joblog_app"
BASE_PACKAGES = {"core", "auth", "audit"}
COMPOSITION_ROOTS = {"__init__", "cli", "demo"}  # they put the features together


def _imports(path: Path) -> list[str]:
    """The joblog_app modules ``path`` imports at run time, as dotted names."""
    tree = ast.parse(path.read_text("utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    package = ["joblog_app", *(rel if path.name == "__init__.py" else rel[:-1])]
    package = [p for p in package if p != "__init__"]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, ast.ImportFrom | ast.Import):
            continue
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("joblog_app")]
            continue
        base = package[:len(package) - node.level + 1] if node.level else []
        module = ".".join([*base, node.module] if node.module else base)
        if module.startswith("joblog_app"):
            found += [module] + [f"{module}.{a.name}" for a in node.names]
    return found


def _unit(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, list[tuple[str, str]]]:
    graph: dict[str, list[tuple[str, str]]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        unit = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        graph.setdefault(unit, []).extend((str(rel), target) for target in _imports(path))
    return graph


def _features() -> set[str]:
    return {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} - BASE_PACKAGES


def test_no_feature_imports_another_features_views():
    offenders = [f"{source} imports {target}" for unit, edges in _graph().items()
                 for source, target in edges
                 if unit not in COMPOSITION_ROOTS and ".views" in target
                 and _unit(target) != unit]
    assert offenders == []


def test_the_base_imports_no_feature():
    features = _features()
    offenders = [f"{source} imports {target}" for unit, edges in _graph().items()
                 if unit not in features and unit not in COMPOSITION_ROOTS
                 for source, target in edges if _unit(target) in features]
    assert offenders == []


def test_no_import_cycle_between_features():
    features = _features()
    depends = {f: {_unit(t) for _s, t in _graph().get(f, [])} & features - {f} for f in features}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n}))
                   for n in depends[start])

    cycles = sorted(f for f in features if reaches(f, f, set()))
    assert cycles == [], f"features in an import cycle: {cycles} ({depends})"
