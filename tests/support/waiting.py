"""Bounded waits for tests. A wait is how a test learns that something happened, never a guess at how long
it takes; one that gives up fails the test, saying what it waited for and what it saw instead. The bound
only guards against a hang: it is generous (a minute), so that a loaded machine never fails a test that
would pass given time."""

from collections.abc import Awaitable, Callable
import asyncio
import inspect
import time

Description = str | Callable[[], str] | None


def described(condition: Callable[[], object], what: Description) -> str:
    """What a wait was for: its own words, or else the line of source that states the condition."""
    if callable(what):
        return what()
    if what:
        return what
    try:
        return inspect.getsource(condition).strip()
    except (OSError, TypeError):
        return repr(condition)


async def eventually(condition: Callable[[], object], what: Description = None, *, timeout: float = 60.0,
                     every: float = 0.05, pause: Callable[[float], Awaitable[object]] | None = None) -> None:
    """Let the event loop run until ``condition()`` is true; it may be a coroutine function (a read of a
    cache, say). ``pause``: how to let the loop run, e.g. a pilot's."""
    deadline = time.monotonic() + timeout
    while not await _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for: {described(condition, what)}")
        await (pause or asyncio.sleep)(every)


def eventually_sync(condition: Callable[[], object], what: Description = None, *, timeout: float = 30.0,
                    every: float = 0.05) -> None:
    """Poll ``condition()`` from a test that blocks until it is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for: {described(condition, what)}")
        time.sleep(every)


async def _holds(condition: Callable[[], object]) -> object:
    result = condition()
    return await result if inspect.isawaitable(result) else result
