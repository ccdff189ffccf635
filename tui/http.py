"""HTTP to a hub, made cheaply.

Every ``httpx.AsyncClient`` loads the system's CA certificates into a new TLS context unless it is
given one, which takes tens of milliseconds on the event loop — paid on each reconnect attempt and
each detail view. A hub on ``http://`` needs no TLS at all; one on ``https://`` shares one context,
made the first time it is needed. httpx itself is imported on first use: it takes a tenth of a second,
which the dashboard's first screen does not wait for.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any
import ssl

if TYPE_CHECKING:
    import httpx


class HubUnreachable(Exception):
    """The hub did not answer (refused, timed out, the link broke)."""


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def hub_client(hub_url: str, timeout: "float | httpx.Timeout", **kwargs: Any) -> "httpx.AsyncClient":
    """A client for requests to the hub at ``hub_url`` (certificates checked whenever TLS is used)."""
    import httpx

    verify: ssl.SSLContext | bool = _tls_context() if hub_url.startswith("https:") else False
    return httpx.AsyncClient(timeout=timeout, verify=verify, **kwargs)


def unreachable(hub_url: str, problem: Exception) -> str:
    """What is said of a hub that did not answer (refused, timed out, the link broke)."""
    return f"the hub at {hub_url} cannot be reached ({type(problem).__name__})"


@contextmanager
def asking(hub_url: str) -> Iterator[None]:
    """Around a request to the hub at ``hub_url``: ``HubUnreachable`` when it does not answer."""
    import httpx

    try:
        yield
    except httpx.HTTPError as exc:
        raise HubUnreachable(unreachable(hub_url, exc)) from None
    except httpx.InvalidURL:  # a path made of what a hub sent (an id past any URL's length): not asked
        raise HubUnreachable(f"the hub at {hub_url} cannot be asked that: the URL would be invalid") from None


async def hub_request(hub_url: str, method: str, path: str, timeout: float, connect_timeout: float,
                      **kwargs: Any) -> "httpx.Response":
    """One request to the hub at ``hub_url``; ``HubUnreachable`` when it does not answer."""
    import httpx

    with asking(hub_url):
        async with hub_client(hub_url, httpx.Timeout(timeout, connect=connect_timeout)) as http:
            return await http.request(method, hub_url.rstrip("/") + path, **kwargs)
