"""RFC 9865 cursors: opaque, URL-safe, bound to their query, signed and timed.

A cursor names a position in the sorted results: the sort key of the last
resource of a page (for ``next``) or of the first (for ``previous``). A key is
``(missing, value, seq)``: whether the sort value is missing, the comparable
sort value, and the store's creation sequence number, which breaks ties. A
position between two keys stays valid while resources come and go, so pages
neither skip nor repeat a resource that did not change.

The token is ``base64url(payload) "." base64url(HMAC-SHA256(secret, payload)[:16])``
(RFC 3986 unreserved characters only). The payload holds the query's
fingerprint, so a cursor given with another filter, sort or count is
``invalidCursor``; a cursor older than ``timeout`` seconds is ``expiredCursor``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

from scimcore.errors import ExpiredCursor, InvalidCursor

__all__ = ["CursorCodec", "Position", "SortKey"]

#: ``(missing, value, seq)``: see the module docstring.
SortKey = tuple[bool, Any, int]
Direction = Literal["next", "previous"]


@attrs.frozen
class Position:
    """Where a cursor points: after (``next``) or before (``previous``) a sort key."""

    direction: Direction
    key: SortKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Makes and reads cursors for one store; ``secret`` signs them.

    >>> codec = CursorCodec(b"k" * 32)
    >>> token = codec.encode("fp", Position("next", (False, "bjensen", 7)))
    >>> codec.decode("fp", token)
    Position(direction='next', key=(False, 'bjensen', 7))
    >>> codec.decode("other query", token)
    Traceback (most recent call last):
    scimcore.errors.InvalidCursor: The cursor does not belong to this query.
    """

    def __init__(
        self,
        secret: bytes | None = None,
        *,
        timeout: float | None = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self.timeout = timeout
        self._clock = clock

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]

    def encode(self, fingerprint: str, position: Position) -> str:
        """The token for a position in the results of the query with this fingerprint."""
        missing, value, seq = position.key
        payload = json.dumps(
            {
                "q": fingerprint,
                "d": position.direction[0],
                "k": [bool(missing), value, seq],
                "t": int(self._clock()),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, fingerprint: str, token: str) -> Position:
        """The position a token names; ``InvalidCursor`` or ``ExpiredCursor`` otherwise."""
        body, dot, tag = token.partition(".")
        try:
            payload = _unb64(body)
            signature = _unb64(tag)
        except (binascii.Error, ValueError):
            raise InvalidCursor("The cursor is not one this server issued.") from None
        if not dot or not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCursor("The cursor is not one this server issued.")
        data = json.loads(payload)
        if data["q"] != fingerprint:
            raise InvalidCursor("The cursor does not belong to this query.")
        if self.timeout is not None and self._clock() - data["t"] > self.timeout:
            raise ExpiredCursor()
        missing, value, seq = data["k"]
        direction: Direction = "next" if data["d"] == "n" else "previous"
        return Position(direction, (missing, value, seq))
