"""Export of what a pane shows to a file: JSON lines (each record whole) or CSV (its flat fields).

Cells and lines are written safe for spreadsheets and terminals (``tui.file_text``), and the file is
the user's alone (0600): it holds bodies and user ids."""

from pathlib import Path
import csv
import os

import orjson

from switchroom.store import EventLog
from switchroom.store.filters import RecordFilter, matching_records
from switchroom.tui.file_text import CSV_COLUMNS, csv_row, json_line

def export_records(log: EventLog, record_filter: RecordFilter, path: Path) -> tuple[int, Path]:
    """Write every record the filter matches, oldest first, to ``path`` (``.csv`` or else JSON lines);
    how many were written, and where. The file is written beside and then put in place; a file that is
    there already is never replaced: the export takes the next free name (``…-2.csv``)."""
    partial = path.with_name(path.name + ".partial")
    count = 0
    with open(_private(partial), "w", encoding="utf-8", newline="") as out:
        if path.suffix == ".csv":
            writer = csv.writer(out)
            writer.writerow(CSV_COLUMNS)
            for body in matching_records(log, record_filter):
                writer.writerow(csv_row(orjson.loads(body)))
                count += 1
        else:
            for body in matching_records(log, record_filter):
                out.write(json_line(body))
                out.write("\n")
                count += 1
    return count, _put_in_place(partial, path)


def _private(path: Path) -> int:
    """``path`` opened to be written afresh, readable by its owner only (whatever an old one's mode was)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)
    return handle


def _put_in_place(partial: Path, path: Path) -> Path:
    """Give ``partial`` the name ``path``, or the first of ``path-2``, ``path-3``, … that is free."""
    for n in range(1, 10_000):
        target = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        try:
            os.link(partial, target)  # fails if the name is taken: never overwrites
        except FileExistsError:
            continue
        partial.unlink()
        return target
    raise FileExistsError(f"no free name beside {path}")

