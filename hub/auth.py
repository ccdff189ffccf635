"""Operator tokens (DESIGN §10): named, so the name can be recorded as the actor of what a token does."""

import hmac

from switchroom.hub.errors import ConnectApiError


def same_secret(known: str, given: str) -> bool:
    """Constant-time comparison of a secret with what a client sent (any text, ASCII or not)."""
    return hmac.compare_digest(known.encode(), given.encode(errors="surrogateescape"))


class OperatorTokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        """``tokens`` maps a name to its secret token."""
        self._tokens = dict(tokens)

    def actor(self, authorization: str | None) -> str | None:
        """The name of the token in an ``Authorization: Bearer …`` header, or None if it matches none."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        for name, secret in self._tokens.items():
            if same_secret(secret, token.strip()):
                return name
        return None

    def required(self, authorization: str | None) -> str:
        """The actor of an ops API request; 401 in the error shape when its token matches none."""
        actor = self.actor(authorization)
        if actor is None:
            raise ConnectApiError("unauthorized", "Missing or wrong operator token (Authorization: Bearer …)")
        return actor
