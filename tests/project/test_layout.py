"""DESIGN §1: imports flow protocol ← store ← hub and protocol ← store ← tui; tui never imports hub."""

from pathlib import Path
import ast

import pytest

from tests.support.repository import ROOT

FORBIDDEN = {
    "protocol": {"store", "hub", "tui"},
    "store": {"hub", "tui"},
    "hub": {"tui"},
    "tui": {"hub"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def imported_packages(path: Path) -> set[str]:
    """The parts a file imports (``switchroom.hub.runner`` is ``hub``)."""
    return {name.split(".")[1] for name in imported_modules(path)
            if name.startswith("switchroom.") and name.count(".") >= 1}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        wrong = imported_packages(path) & FORBIDDEN[package]
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_the_log_core_knows_nothing_of_the_dashboards_analytics() -> None:
    """``store`` is the log both sides share; ``store.analytics`` (derived counts, windows, breakdowns,
    failure groups, retention) is the dashboard's, built on it and never the other way."""
    core = [p for p in sorted((ROOT / "store").glob("*.py"))]
    assert core
    for path in core:
        wrong = {name for name in imported_modules(path) if name.startswith("switchroom.store.analytics")}
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"
    for path in (p for part in ("hub", "protocol") for p in sorted((ROOT / part).rglob("*.py"))):
        wrong = {name for name in imported_modules(path) if name.startswith("switchroom.store.analytics")}
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_every_part_is_imported_by_its_installed_name() -> None:
    """An install has ``switchroom.hub``, not ``hub`` (tests/project/test_packaging.py): code and tests that import
    a bare part name work only inside this checkout."""
    files = [p for part in (*FORBIDDEN, "themes", "tests", "benchmarks") for p in sorted((ROOT / part).rglob("*.py"))]
    for path in files:
        bare = {name for name in imported_modules(path) if name.split(".")[0] in (*FORBIDDEN, "themes")}
        assert not bare, f"{path.relative_to(ROOT)} imports {sorted(bare)}"


def test_the_kinds_of_record_are_listed_in_protocol_only() -> None:
    """``protocol.kinds`` names the record kinds and what each stream carries; a module-level list of kinds
    written out anywhere else is a second list that the next kind will miss."""
    from switchroom.protocol.kinds import KINDS

    for path in (p for part in FORBIDDEN if part != "protocol" for p in sorted((ROOT / part).rglob("*.py"))):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in (n.value for n in tree.body if isinstance(n, ast.Assign | ast.AnnAssign)):
            if isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2:
                words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                assert not (len(words) == len(node.elts) and set(words) <= set(KINDS)), (
                    f"{path.relative_to(ROOT)}:{node.lineno} lists kinds: {words}")


def _stands_for_a_kind(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether a word is used as a record's kind where it is: compared with, assigned to, passed as or
    defaulting something named kind, or the value of a ``"kind"`` key (directly or within a tuple)."""
    parent = parents.get(node)
    while isinstance(parent, ast.Tuple | ast.List | ast.Set):
        node, parent = parent, parents.get(parent)
    if isinstance(parent, ast.Compare):
        return any("kind" in ast.unparse(other) for other in (parent.left, *parent.comparators) if other is not node)
    if isinstance(parent, ast.Dict):
        return any(v is node and isinstance(k, ast.Constant) and k.value == "kind"
                   for k, v in zip(parent.keys, parent.values))
    if isinstance(parent, ast.keyword):
        return "kind" in (parent.arg or "")
    if isinstance(parent, ast.Assign | ast.AnnAssign):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        return any("kind" in ast.unparse(t).lower() for t in targets)
    if isinstance(parent, ast.arguments):
        args = [*parent.posonlyargs, *parent.args]
        named = dict(zip(map(id, parent.defaults), args[len(args) - len(parent.defaults):]))
        named.update((id(d), a) for d, a in zip(parent.kw_defaults, parent.kwonlyargs) if d is not None)
        return id(node) in named and "kind" in named[id(node)].arg
    return False


def test_the_kinds_of_record_are_named_in_protocol_only() -> None:
    """A record kind's name is written once, as its struct's tag in ``protocol.records``; the hub, the log
    core and the dashboard use ``protocol.kinds``' names for it (``API_CALL``, …), so that renaming or
    adding a kind is one change that nothing can miss. A kind's name that is a word of its own elsewhere
    too (``rerun`` is also a record's ``source``, a CLI command, an answer's type) is refused only where it
    stands for a kind."""
    from typing import get_args

    from switchroom.protocol.kinds import KINDS
    from switchroom.protocol.records import Source

    other_words = set(KINDS) & set(get_args(Source))
    assert other_words == {"rerun"}  # the scan's premise: "rerun" is a kind and a source
    found = []
    for path in (p for part in ("hub", "store", "tui") for p in sorted((ROOT / part).rglob("*.py"))):
        tree = ast.parse(path.read_text(), filename=str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        found += [f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in KINDS
                  and (node.value not in other_words or _stands_for_a_kind(node, parents))]
    assert not found, "kind names written outside protocol (use protocol.kinds): " + ", ".join(found)
