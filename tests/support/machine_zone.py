"""The machine's time zone, set for a test the way a user sets it: ``TZ``, which the C library reads
(``time.tzset``), so the dashboard's ``local`` zone is that one."""

from collections.abc import Iterator
from contextlib import contextmanager
import os
import time


@contextmanager
def machine_zone(name: str) -> Iterator[None]:
    """While inside, the machine's zone is ``name`` (an IANA name such as ``Asia/Kolkata``, or ``UTC``)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
