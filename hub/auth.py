"""Operator tokens (DESIGN §10): named, so the name can be recorded as the actor of what a token does."""

import hmac


class OperatorTokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        """``tokens`` maps a name to its secret token."""
        self._tokens = dict(tokens)

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def actor(self, authorization: str | None) -> str | None:
        """The name of the token in an ``Authorization: Bearer …`` header, or None if it matches none."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        for name, secret in self._tokens.items():
            if hmac.compare_digest(secret.encode(), token.strip().encode()):
                return name
        return None
