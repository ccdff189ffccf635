"""The files that hold records — a hub's event log, a dashboard's caches and their derived files — are
their owner's alone: 0600, in folders made 0700. They hold request and response bodies and user ids,
and on a shared host (a jump host, say) a 0644 file in a 0755 folder is anyone's to read.

The file is made (or its mode set) before SQLite opens it: SQLite then creates the ``-wal`` and
``-shm`` files with the database file's own mode. A umask set around the open would do as much, but
the umask is the process's, and other threads make files meanwhile.
"""

from pathlib import Path
import os

FILE_MODE = 0o600
FOLDER_MODE = 0o700
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_database(path: Path) -> None:
    """Make ``path`` (and every folder missing above it) for SQLite to open, readable by its owner only;
    an existing one, and the side files SQLite keeps beside it, are made so too. Folders that exist
    already are left as they are (``--db hub.sqlite`` lives in whatever folder it is run from)."""
    make_folders(path.parent)
    if not path.exists():
        _create(path)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)):
        try:
            os.chmod(file, FILE_MODE)
        except (FileNotFoundError, PermissionError):  # none, or another user's that we may only read
            pass


def _create(path: Path) -> None:
    """Make the empty file 0600, unless another has made it meanwhile. Only a file that did not exist is
    ever opened here: closing a descriptor of a file drops every POSIX lock the process holds on it, so
    opening and closing a database that this process's SQLite connections hold would break their
    locking (SQLite's own descriptors are kept open for that reason)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass


def make_folders(folder: Path) -> None:
    """Make ``folder`` and the folders missing above it, each 0700 (``os.makedirs`` gives its mode to the
    last one only)."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=FOLDER_MODE, exist_ok=True)


def private_folder(folder: Path) -> None:
    """A folder of the program's own (a cache's ``hubs``), made or set 0700."""
    make_folders(folder)
    os.chmod(folder, FOLDER_MODE)
