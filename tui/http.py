"""HTTP clients for talking to a hub, made cheaply.

Every ``httpx.AsyncClient`` loads the system's CA certificates into a new TLS context unless it is
given one, which takes tens of milliseconds on the event loop — paid on each reconnect attempt and
each detail view. A hub on ``http://`` needs no TLS at all; one on ``https://`` shares one context,
made the first time it is needed.
"""

from functools import cache
from typing import Any
import ssl

import httpx


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def hub_client(hub_url: str, timeout: float | httpx.Timeout, **kwargs: Any) -> httpx.AsyncClient:
    """A client for requests to the hub at ``hub_url`` (certificates checked whenever TLS is used)."""
    verify: ssl.SSLContext | bool = _tls_context() if hub_url.startswith("https:") else False
    return httpx.AsyncClient(timeout=timeout, verify=verify, **kwargs)
