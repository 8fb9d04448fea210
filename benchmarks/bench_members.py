"""Member adds: one PATCH add to a group of 20,000 members against the same add to an empty group.

    python benchmarks/run.py members

Issue 21's acceptance: one member add to a 20,000-member group within 2× of an add
to an empty group. Each case sends the PATCH Entra and Okta send
(``{"op": "add", "path": "members", "value": [{"value": …}]}``) through
``ScimService.handle`` with ``patch_no_content=True`` (204 + ETag, Entra's advice for
group PATCH): "scimcore" is the add to the large group, the "peer" the add to an
empty one, so the ratio is empty-time / large-time and the target 0.5 means
"within 2×". A second row per store times the whole-resource PATCH on the large
group (the path before member deltas, forced with a ``before_patch`` hook) as the
peer: how much the delta saves. PostgreSQL uses ``SCIMCORE_POSTGRES_DSN``.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import tempfile
from collections.abc import Callable
from typing import Any

from _harness import Case

from scimcore.service import Hooks, Request, ScimService
from scimcore.stores import MemoryStore, PostgresStore, SQLiteStore

MEMBERS = 20_000
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
DSN = os.environ.get("SCIMCORE_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
HEADERS = {"Content-Type": "application/scim+json"}
_counter = itertools.count()


class WholeResource(Hooks):
    """A ``before_patch`` hook: the service patches the whole group (no delta)."""

    def before_patch(self, ctx: Any, current: Any, resource: Any) -> Any:
        return resource


def _group(service: ScimService, size: int) -> str:
    members = [{"value": f"{i:08d}-0000-4000-8000-000000000000"} for i in range(size)]
    body = {"schemas": [GROUP], "displayName": f"g{next(_counter)}", "members": members}
    response = service.handle(
        Request("POST", "/Groups", headers=HEADERS, body=json.dumps(body).encode())
    )
    assert response.status == 201, response.body[:200]
    return str(response.json()["id"])


def _adder(service: ScimService, group_id: str) -> Callable[[], object]:
    def add() -> object:
        value = f"new-{next(_counter)}"
        body = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": value}]}],
        }
        response = service.handle(
            Request("PATCH", f"/Groups/{group_id}", headers=HEADERS, body=json.dumps(body).encode())
        )
        assert response.status in (200, 204), response.body[:200]
        return response

    return add


def _stores() -> list[tuple[str, Callable[[], Any]]]:
    directory = tempfile.mkdtemp(prefix="scimcore-bench-members-")
    return [
        ("memory", MemoryStore),
        ("sqlite", lambda: SQLiteStore(os.path.join(directory, f"{secrets.token_hex(4)}.db"))),
        (
            "postgres",
            lambda: PostgresStore(DSN, schema=f"scimcore_bench_members_{secrets.token_hex(4)}"),
        ),
    ]


def cases() -> list[Case]:
    out = []
    for name, make in _stores():
        store = make()
        delta = ScimService(store, patch_no_content=True)
        whole = ScimService(store, patch_no_content=True, hooks=WholeResource())
        large, empty = _group(delta, MEMBERS), _group(delta, 0)
        out.append(
            Case(
                f"{name}: add 1 member, 20,000-member group vs empty",
                _adder(delta, large),
                _adder(delta, empty),
                peer_name="(peer: the same add to an empty group)",
                target=0.5,
                number=100,  # runs of ~15 ms on the memory store: longer than a time slice
            )
        )
        out.append(
            Case(
                f"{name}: add 1 member to 20,000, delta vs whole group",
                _adder(delta, large),
                _adder(whole, large),
                peer_name="(peer: the whole-resource PATCH)",
                number=3,
            )
        )
    return out
