"""Where the repository is, for tests that read its files or start a process from its top folder."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
