"""Stylesheets shipped with the dashboard."""

from pathlib import Path

THEMES_DIR = Path(__file__).parent
APP_CSS = THEMES_DIR / "switchroom.tcss"
