"""A pane is one module under tui/panes plus its line in the registry: the app names no pane of its own."""

import ast
import importlib
from pathlib import Path

from switchroom.tui.panes import PANES
from switchroom.tui.panes.view import PaneView
from tests.support.repository import ROOT

TUI = ROOT / "tui"


def imported_modules(path: Path) -> set[str]:
    return {node.module for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
            and node.module is not None}


def test_every_pane_in_the_registry_is_a_pane_view_in_its_own_module() -> None:
    assert len({pane.id for pane in PANES}) == len(PANES)
    for pane in PANES:
        view = pane.load()
        assert issubclass(view, PaneView) and view is not PaneView
        assert view.__module__ == f"switchroom.tui.panes.{pane.id}"
        assert (TUI / "panes" / f"{pane.id}.py").is_file()
        assert view.ACTS_ON is None or view.ACTS_ON in {p.id for p in PANES}


def test_the_app_names_no_pane() -> None:
    """No pane id in the app's code (the replicator's stream names aside), no pane module and none of the
    panes' widgets: what the app does with a pane goes through the registry and ``PaneView``."""
    app = TUI / "app.py"
    tree = ast.parse(app.read_text())
    streams = {id(node) for call in ast.walk(tree) if isinstance(call, ast.Call)
               for keyword in call.keywords if keyword.arg == "streams" for node in ast.walk(keyword.value)}
    pane_ids = {pane.id for pane in PANES}
    named = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in pane_ids
             and id(node) not in streams]
    assert named == []
    panes_widgets = {module for pane in PANES for module in imported_modules(TUI / "panes" / f"{pane.id}.py")
                     if module.startswith("switchroom.tui.widgets.")}
    pane_modules = {f"switchroom.tui.panes.{pane.id}" for pane in PANES}
    assert panes_widgets and imported_modules(app) & (panes_widgets | pane_modules) == set()


def test_pane_modules_are_imported_only_through_the_registry() -> None:
    """Nothing else in the dashboard reaches into a pane's module: removing a pane is its line and its file."""
    pane_modules = {f"switchroom.tui.panes.{pane.id}" for pane in PANES}
    for path in TUI.rglob("*.py"):
        if path.parent != TUI / "panes":
            assert not imported_modules(path) & pane_modules, path
    for pane in PANES:
        importlib.import_module(f"switchroom.tui.panes.{pane.id}")
