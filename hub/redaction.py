"""Secrets never reach records (DESIGN §10): the hub's own keys and tokens, wherever they appear in a
record's text, and the values of fields whose names say secret, become ``REDACTED``.

Every record goes through ``Redactor.record`` on its way into the log, so a body, resolved fields, an
error message, a script's console or an outbound call's body are all covered by one rule, and the log,
the streams and every dashboard cache only ever hold the marker.
"""

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote
import re

import orjson

REDACTED = "[redacted]"
"""The marker, as the dashboard's record detail already shows a call's keys."""

SECRET_NAME_PARTS = ("password", "passwd", "passphrase", "secret", "token", "authorization", "apikey",
                     "servicekey", "accesskey", "privatekey", "credential", "cookie")
"""A field is secret when its name, lower-cased with ``-``, ``_``, ``.`` and spaces taken out, contains one
of these (``X-Auth-Token``, ``Api-Key``, ``client_secret``, ``IFTTT-Service-Key``, …)."""
SECRET_NAMES = ("auth",)
"""…or is one of these."""

_NOISE = b" \t\n\r\f\v-_."
"""What a name is read without (ASCII only, exactly as the quick look at a record's JSON reads it)."""
_PARTS = tuple(part.encode() for part in SECRET_NAME_PARTS)
_NAMES = tuple(name.encode() for name in SECRET_NAMES)
MIN_SECRET_IN_TEXT = 8
"""A secret shorter than this (a demo's or a test's ``k``) is redacted where a value is the secret alone,
never inside longer text, where it would cut every word that holds its letters."""
MAX_DEPTH = 300
"""Deeper than any record can be stored (the JSON encoder stops at 254 levels); past it, a value is
replaced whole rather than walked."""


def secret_name(name: str) -> bool:
    """Whether a field called ``name`` holds a secret, by its name alone."""
    plain = _squashed(name.encode(errors="surrogatepass"))
    return plain in _NAMES or any(part in plain for part in _PARTS)


class Redactor:
    """Takes the hub's secrets out of records: ``secrets`` are its service keys and operator tokens."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._learn([secret for secret in secrets if secret])

    def learn(self, secrets: Iterable[str]) -> None:
        """Redact ``secrets`` too from now on (a reloaded catalog's service keys); those known before stay
        known, since records of runs begun before may still carry them."""
        self._learn([*self._known, *(secret for secret in secrets if secret and secret not in self._known)])

    def _learn(self, secrets: list[str]) -> None:
        self._known = tuple(secrets)
        self._whole = frozenset(secret for secret in secrets if len(secret) < MIN_SECRET_IN_TEXT)
        forms = {form for secret in secrets if len(secret) >= MIN_SECRET_IN_TEXT for form in _written_forms(secret)}
        longest_first = sorted(forms, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, longest_first))) if forms else None
        self._secret_clues = (*(form.encode(errors="surrogatepass") for form in forms),
                              *(orjson.dumps(secret) for secret in self._whole))
        self._name_clues = (*_PARTS, *(b'"' + name + b'":' for name in _NAMES))

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` with secrets redacted; its own top-level fields keep their names (they are the
        record's schema, not a caller's), while everything under them is checked by name too."""
        if not self._may_hold_secrets(record):
            return record
        return {key: self._value(value, 1) for key, value in record.items()}

    def _may_hold_secrets(self, record: dict[str, Any]) -> bool:
        """A quick look at the record's JSON for a secret or a secret-sounding name (most records have
        neither, and then need no walk: the log's append rate depends on it)."""
        try:
            encoded = orjson.dumps(record)
        except (TypeError, ValueError):
            return True
        squashed = _squashed(encoded)
        return any(clue in encoded for clue in self._secret_clues) or any(clue in squashed for clue in self._name_clues)

    def text(self, text: str) -> str:
        """``text`` with every appearance of a known secret replaced, even inside a longer string (a short
        secret only when it is the whole text)."""
        if text in self._whole:
            return REDACTED
        return self._secrets.sub(REDACTED, text) if self._secrets is not None else text

    def _value(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if depth > MAX_DEPTH and isinstance(value, dict | list | tuple):
            return REDACTED
        if isinstance(value, dict):
            return {self.text(key) if isinstance(key, str) else key:
                    REDACTED if isinstance(key, str) and secret_name(key) and value[key] is not None
                    else self._value(value[key], depth + 1)
                    for key in value}
        if isinstance(value, list | tuple):
            return [self._value(item, depth + 1) for item in value]
        return value


def _squashed(text: bytes) -> bytes:
    return text.lower().translate(None, _NOISE)


def _written_forms(secret: str) -> set[str]:
    """How a secret may be written in a record's text: as itself, JSON-escaped (inside a body kept as
    JSON text) and percent-encoded (inside a URL)."""
    return {secret, orjson.dumps(secret).decode()[1:-1], quote(secret, safe="")}
