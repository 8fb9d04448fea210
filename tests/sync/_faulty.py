"""A real scimcore server on loopback that misbehaves on the writes it is told to.

``Faulty(app, faults)`` wraps an ASGI app: ``faults`` maps the number of a write request
(POST, PUT, PATCH, DELETE; counted from 0) to ``"429"``, ``"503"`` or another status (answered
without reaching the app: the server did not act) or ``"drop"`` (the app acts, then the connection
is dropped before the answer is complete: the hardest case, an acted-on write whose answer
is lost).
"""

from __future__ import annotations

import json
from typing import Any

from tests.client._scripted import Dropped

__all__ = ["Faulty"]

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Faulty:
    def __init__(self, app: Any, faults: dict[int, str] | None = None) -> None:
        self.app = app
        self.faults = dict(faults or {})
        self.writes = 0
        self.served: list[tuple[int, str, str, str]] = []  # (write number, fault, method, path)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        number = self.writes
        self.writes += 1
        fault = self.faults.pop(number, "")
        self.served.append((number, fault, scope["method"], scope["path"]))
        if fault.isdigit():
            body = json.dumps(
                {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": fault,
                    "detail": "busy",
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": int(fault),
                    "headers": [
                        (b"content-type", b"application/scim+json"),
                        (b"retry-after", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if fault == "drop":

            async def swallow(message: Any) -> None:
                pass

            await self.app(scope, receive, swallow)  # the write is committed ...
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/scim+json"),
                        (b"content-length", b"100"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise Dropped  # ... and its answer lost
        await self.app(scope, receive, send)
