"""A scripted SCIM server (ASGI) for the client's fault tests.

It serves ``users`` (JSON documents with ids), ``/ServiceProviderConfig`` as
``config`` says, and misbehaves as ``faults`` say: a queue of one-shot faults
(``429``, ``503``, ``drop``) taken by the next requests, and list behaviours
(``page_cap``, ``ignore_count``, ``ignore_start``, ``total_offset``, a hook run
before each list request that may change the list, ``repeat_page``/``skip_page`` on
the n-th list request). It records every request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def users(n: int) -> list[dict[str, Any]]:
    return [
        {"schemas": [USER], "id": f"u{i:05}", "userName": f"user{i:05}", "meta": {"version": "1"}}
        for i in range(n)
    ]


class Dropped(Exception):
    """Raised by the app after the response started: uvicorn drops the connection."""


class Scripted:
    def __init__(self, data: list[dict[str, Any]], **config: Any) -> None:
        self.users = data
        self.faults: list[tuple[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.cursor = config.pop("cursor", False)
        self.max_results = config.pop("max_results", 0)
        self.bulk_max = config.pop("bulk_max", 0)
        self.bulk_bytes = config.pop("bulk_bytes", 0)
        self.patch = config.pop("patch", True)
        self.supports = config.pop("supports", True)  # bulk, filter and etag
        self.page_cap: int | None = config.pop("page_cap", None)
        self.ignore_count = config.pop("ignore_count", False)
        self.ignore_start = config.pop("ignore_start", False)
        self.total_offset = config.pop("total_offset", 0)
        self.repeat_page: int | None = config.pop("repeat_page", None)
        self.skip_page: int | None = config.pop("skip_page", None)
        self.before_list: Callable[[Scripted, int], None] | None = config.pop("before_list", None)
        self.lower_case = config.pop("lower_case", False)
        self.ignore_cursor = config.pop("ignore_cursor", False)
        self.list_requests = 0
        self.last_page: list[dict[str, Any]] = []
        self.created = 0
        assert not config, config

    def config(self) -> dict[str, Any]:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": self.patch},
            "bulk": {
                "supported": self.supports,
                "maxOperations": self.bulk_max,
                "maxPayloadSize": self.bulk_bytes,
            },
            "filter": {"supported": self.supports, "maxResults": self.max_results},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": self.supports},
            "authenticationSchemes": [],
            "pagination": {"cursor": self.cursor, "index": True},
        }

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = parse_qs(scope["query_string"].decode(), keep_blank_values=True)
        document = json.loads(body) if body else None
        self.requests.append((scope["method"], scope["path"], query, document))
        if self.faults:
            fault, value = self.faults.pop(0)
            if fault in ("429", "503"):
                headers = [] if value is None else [(b"retry-after", str(value).encode())]
                await self._send(send, int(fault), {"detail": "busy", "status": fault}, headers)
                return
            if fault == "drop":
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
                raise Dropped
        status, answer = self.answer(scope["method"], scope["path"], query, document)
        await self._send(send, status, answer)

    async def _send(
        self,
        send: Any,
        status: int,
        answer: Any,
        headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    ) -> None:
        payload = b"" if answer is None else json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/scim+json"), *headers],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], document: Any
    ) -> tuple[int, Any]:
        if path.endswith("/ServiceProviderConfig"):
            return 200, self.config()
        if path.endswith(("/ResourceTypes", "/Schemas")):
            return 404, {"status": "404", "detail": "no discovery"}
        if path.endswith("/Bulk"):
            return 200, self.bulk(document)
        if path.endswith("/Users") and method == "GET":
            return 200, self.list(query)
        if method == "POST" and path.endswith("/Users"):
            self.created += 1
            return 201, {**document, "id": f"new{self.created}"}
        if method == "GET" and "/Users/" in path:
            for user in self.users:
                if path.endswith("/" + user["id"]):
                    return 200, user
            return 404, {"status": "404", "detail": "not found"}
        return 404, {"status": "404", "detail": "no such endpoint"}

    def list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        self.list_requests += 1
        if self.before_list is not None:
            self.before_list(self, self.list_requests)
        count = int(query.get("count", ["100"])[0])
        if self.page_cap is not None:
            count = min(count, self.page_cap)
        if self.ignore_cursor:
            query.pop("cursor", None)
        if self.cursor and "cursor" in query:
            start = int(query["cursor"][0] or "1")
        else:
            start = 1 if self.ignore_start else int(query.get("startIndex", ["1"])[0])
        asked = start
        if self.skip_page == self.list_requests:
            start += count
        page = (
            self.users[start - 1 :]
            if self.ignore_count
            else self.users[start - 1 : start - 1 + count]
        )
        if self.repeat_page == self.list_requests:
            page = self.last_page
        self.last_page = page
        answer: dict[str, Any] = {
            "schemas": [LIST],
            "totalResults": len(self.users) + self.total_offset,
            "itemsPerPage": len(page),
            "Resources": page,
        }
        if self.lower_case:  # "resources", "totalresults": JSON names in the wrong case
            answer = {key.lower(): value for key, value in answer.items()}
        if self.cursor and "cursor" in query:
            if start - 1 + count < len(self.users):
                answer["nextCursor"] = str(start + count)
        else:
            answer["startIndex"] = asked
        return answer

    def bulk(self, document: Any) -> dict[str, Any]:
        results = []
        for op in document["Operations"]:
            self.created += 1
            results.append(
                {
                    "method": op["method"],
                    "bulkId": op.get("bulkId"),
                    "status": "201",
                    "location": f"https://example.com/v2/Users/id{self.created}",
                }
            )
        return {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],
            "Operations": results,
        }
