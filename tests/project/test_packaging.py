"""DESIGN §1: an install adds one import name, ``switchroom``; the repository keeps its parts at the top
level. Checked on the wheel ``pip`` builds from this checkout, installed apart from the source tree."""

from pathlib import Path
import os
import re
import subprocess
import sys
import zipfile

import pytest

from tests.support.repository import ROOT

PARTS = ("protocol", "store", "hub", "tui", "themes")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    [built] = out.glob("switchroom-*.whl")
    return built


def test_the_wheel_adds_one_top_level_name_and_every_file_of_the_parts(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"switchroom"}
    tracked = subprocess.run(["git", "ls-files", *PARTS], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    shipped = [path for path in tracked if path.endswith((".py", ".js", ".tcss", ".toml"))]
    assert shipped and {f"switchroom/{path}" for path in shipped} <= set(names)


def test_the_installed_parts_work_from_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    assert {p.name for p in target.iterdir() if not p.name.endswith(".dist-info")} - {"bin"} == {"switchroom"}
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = ("import importlib.util, switchroom.hub.cli, switchroom.tui.cli, switchroom.themes\n"
             "print(switchroom.hub.__file__, switchroom.themes.APP_CSS.is_file())\n"
             "print([n for n in ('hub', 'tui', 'store', 'protocol', 'themes') if importlib.util.find_spec(n)])")
    shown = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert shown[0].startswith(str(target)) and shown[0].endswith("True")  # the installed copy, its data with it
    assert shown[1] == "[]"  # no generic top-level name
    for module in ("switchroom.hub", "switchroom.tui"):
        helped = subprocess.run([sys.executable, "-m", module, "--help"], cwd=tmp_path, env=env,
                                capture_output=True, text=True)
        assert helped.returncode == 0 and "usage:" in helped.stdout, helped.stderr
        # What the help points at is in the install (docs/ is not: an install has no docs folder)
        assert "docs/" not in helped.stdout
        for named in re.findall(r"installed at (\S+)", helped.stdout):
            assert Path(named).is_file() and Path(named).is_relative_to(target), named
