"""Bulk (RFC 7644 §3.7) in batches the server accepts, ``bulkId`` references kept.

Operations are put in dependency order first (an operation that refers to
``bulkId:x`` comes after the one whose ``bulkId`` is ``x``; otherwise the given
order is kept), then cut into batches of at most the server's
``bulk.maxOperations`` operations and ``bulk.maxPayloadSize`` bytes. A
reference to an operation of an earlier batch is replaced by the id the server
gave it (read off its ``location``); a reference within one batch is left for
the server to resolve.

>>> from scimcore.models import BulkOperation
>>> ops = [BulkOperation(method="POST", path="/Groups", bulk_id="g",
...                      data={"displayName": "G", "members": [{"value": "bulkId:u"}]}),
...        BulkOperation(method="POST", path="/Users", bulk_id="u", data={"userName": "u"})]
>>> [op.bulk_id for op in dependency_order(ops)]
['u', 'g']
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Generator, Mapping, Sequence
from typing import Any

import attrs

from scimcore import codecs
from scimcore._json import compact
from scimcore.client._core import ClientCore, Step
from scimcore.errors import InvalidValue, PayloadTooLarge
from scimcore.models import BulkOperation, BulkRequest, BulkResponseOperation
from scimcore.models._base import Resource

__all__ = ["bulk", "dependency_order"]

_PREFIX = "bulkId:"


def _references(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, str):
        if value.startswith(_PREFIX):
            found.add(value[len(_PREFIX) :])
        elif "/" + _PREFIX in value:
            found.add(value.rsplit("/" + _PREFIX, 1)[1])
    elif isinstance(value, Mapping):
        for item in value.values():
            _references(item, found)
    elif isinstance(value, list):
        for item in value:
            _references(item, found)
    return found


def _substitute(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        if value.startswith(_PREFIX) and value[len(_PREFIX) :] in ids:
            return ids[value[len(_PREFIX) :]]
        if "/" + _PREFIX in value:
            head, ref = value.rsplit("/" + _PREFIX, 1)
            if ref in ids:
                return f"{head}/{ids[ref]}"
        return value
    if isinstance(value, Mapping):
        return {k: _substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    return value


def _data(operation: BulkOperation) -> Any:
    data = operation.data
    if isinstance(data, Resource):
        return codecs.v2.encode(data)
    if attrs.has(type(data)):
        return codecs.v2.encode(data)
    return data


def dependency_order(operations: Sequence[BulkOperation]) -> list[BulkOperation]:
    """The operations, each after those it refers to by ``bulkId``, else in the given order
    (of the operations ready, the first given goes first).

    A cycle of references cannot be split over batches and raises
    :class:`~scimcore.errors.InvalidValue`.
    """
    index = {op.bulk_id: i for i, op in enumerate(operations) if op.bulk_id}
    waiting_on: list[int] = []
    dependents: dict[int, list[int]] = {}
    for i, op in enumerate(operations):
        needs = {
            index[ref]
            for ref in _references([op.path, _data(op)], set())
            if ref in index and index[ref] != i
        }
        waiting_on.append(len(needs))
        for need in needs:
            dependents.setdefault(need, []).append(i)
    ready = [i for i, n in enumerate(waiting_on) if n == 0]
    heapq.heapify(ready)
    ordered: list[BulkOperation] = []
    while ready:
        i = heapq.heappop(ready)
        ordered.append(operations[i])
        for j in dependents.get(i, ()):
            waiting_on[j] -= 1
            if waiting_on[j] == 0:
                heapq.heappush(ready, j)
    if len(ordered) < len(operations):
        names = sorted(op.bulk_id or "?" for i, op in enumerate(operations) if waiting_on[i])
        raise InvalidValue(f"The bulkId references form a cycle: {', '.join(names)}.")
    return ordered


def _prepared(operation: BulkOperation, ids: Mapping[str, str]) -> BulkOperation:
    data = _data(operation)
    return attrs.evolve(
        operation,
        path=_substitute(operation.path, ids),
        data=None if data is None else _substitute(data, ids),
    )


def _one_request_size(operation: BulkOperation) -> int:
    return len(compact(codecs.v2.encode(BulkRequest(operations=[operation]))))


def _request_size(size: int, count: int, operation: BulkOperation) -> int:
    """The size of a bulk request of ``count`` operations (``size`` bytes) with ``operation``
    added: exactly ``len(compact(encode(BulkRequest(operations=[*batch, operation]))))``,
    found from the one-operation request's size, so that a batch costs one encode per
    operation instead of one of the whole batch per operation.

    In compact JSON, a request of ``n`` operations is an envelope of ``E`` bytes (with
    ``"Operations":[]``), the operations' own JSON, and ``n - 1`` commas.

    >>> from scimcore.models import User
    >>> ops = [BulkOperation(method="POST", path="/Users", bulk_id=str(i),
    ...                      data=User(user_name=f"u{i}")) for i in range(3)]
    >>> size = 0
    >>> for count, op in enumerate(ops):
    ...     size = _request_size(size, count, op)
    >>> size == len(compact(codecs.v2.encode(BulkRequest(operations=ops))))
    True
    """
    alone = _one_request_size(operation)
    if count == 0:
        return alone
    return size + alone - _envelope_size() + 1


@functools.cache
def _envelope_size() -> int:
    """``E``: a two-operation request is ``E + 2x + 1`` bytes and a one-operation one ``E + x``."""
    sample = BulkOperation(method="DELETE", path="/Users/x")
    alone = _one_request_size(sample)
    twice = len(compact(codecs.v2.encode(BulkRequest(operations=[sample, sample]))))
    return 2 * alone - twice + 1


def bulk(
    core: ClientCore,
    operations: Sequence[BulkOperation],
    *,
    fail_on_errors: int | None = None,
) -> Generator[Step, Any, list[BulkResponseOperation]]:
    """Send ``operations`` in as many bulk requests as the server's limits need.

    Returns every operation's outcome, in the order sent. With
    ``fail_on_errors``, no further batch is sent once that many operations
    have failed.
    """
    found = yield from core.discovery()
    config = found.config.bulk
    core._require("Bulk", config.supported)
    limit = config.max_operations if config.max_operations > 0 else len(operations) or 1
    max_bytes = config.max_payload_size
    ids: dict[str, str] = {}
    results: list[BulkResponseOperation] = []
    errors = 0
    pending = dependency_order(operations)
    while pending:
        batch: list[BulkOperation] = []
        size = 0
        while pending and len(batch) < limit:
            candidate = _prepared(pending[0], ids)
            if max_bytes > 0:
                size = _request_size(size, len(batch), candidate)
            if max_bytes > 0 and size > max_bytes:
                if not batch:
                    raise PayloadTooLarge(
                        f"Bulk operation {pending[0].bulk_id or pending[0].path!r} alone "
                        f"is {size} bytes; the server takes at most {max_bytes}."
                    )
                break
            batch.append(candidate)
            pending.pop(0)
        request = BulkRequest(
            operations=batch,
            fail_on_errors=None if fail_on_errors is None else max(1, fail_on_errors - errors),
        )
        response = yield from core.bulk_batch(request)
        for outcome in response.operations:
            if outcome.bulk_id and outcome.location:
                ids[outcome.bulk_id] = outcome.location.rstrip("/").rsplit("/", 1)[-1]
            if outcome.status and not outcome.status.strip().startswith(("1", "2", "3")):
                errors += 1
        results.extend(response.operations)
        if fail_on_errors is not None and errors >= fail_on_errors:
            break
    return results
