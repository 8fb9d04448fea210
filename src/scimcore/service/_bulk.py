"""Bulk (RFC 7644 §3.7): many operations in one request, with ``bulkId`` references.

Theory of operation: the request is checked as a whole first (its schema,
``maxOperations``, duplicate ``bulkId``\\ s: any fault there fails the whole
request). Each operation then lists the ``bulkId``\\ s it references: every
``bulkId:<id>`` found in its ``path`` or anywhere in its ``data``, PATCH
values and PATCH paths included (``members[value eq "bulkId:qwerty"]``). The
operations run in *dependency order*: an operation runs after the POSTs whose
ids it needs, and otherwise in the order the client wrote them (RFC 7644
§3.7.2 lets a provider reorder, provided the result is the one the client
meant). Operations on a reference cycle are refused with 409, as are those
that reference an unknown ``bulkId`` or one whose POST failed. Each operation
runs through the same code as its plain HTTP twin (:class:`~._resources.Resources`),
so it gets the same validation, hooks and errors; ``version`` is its ``If-Match``. With
``failOnErrors: N`` processing stops after the N-th error; the response lists
every operation processed, in the order they ran.
"""

from __future__ import annotations

import heapq
import logging
import re
from collections.abc import Mapping
from typing import Any

import attrs

from scimcore._log import log_unexpected
from scimcore.errors import (
    Conflict,
    InternalServerError,
    InvalidSyntax,
    InvalidValue,
    MethodNotAllowed,
    PayloadTooLarge,
    ScimError,
)
from scimcore.service._hooks import Context
from scimcore.service._http import Request
from scimcore.service._resources import Resources
from scimcore.service._store_calls import Gen

__all__ = ["BULK_REQUEST_SCHEMA", "BULK_RESPONSE_SCHEMA", "references", "run_bulk"]

BULK_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"

log = logging.getLogger("scimcore.service")

# bulkId:<id>, where the id runs up to a character that ends a value in a
# path, a filter or a URL.
_REFERENCE = re.compile(r"bulkId:([^\s\"'/\\\]\[\)\(,]+)")
_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def references(value: Any) -> set[str]:
    """Every ``bulkId`` referenced (``bulkId:<id>``) in a JSON value, at any depth.

    >>> sorted(references({"members": [{"value": "bulkId:qwerty"}],
    ...                    "Operations": [{"path": 'members[value eq "bulkId:ytrewq"]'}]}))
    ['qwerty', 'ytrewq']
    """
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "bulkId:" in item:
                found.update(_REFERENCE.findall(item))
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _substitute(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        if "bulkId:" not in value:
            return value
        return _REFERENCE.sub(lambda m: ids.get(m.group(1), m.group(0)), value)
    if isinstance(value, Mapping):
        return {k: _substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    return value


@attrs.define
class _Operation:
    index: int
    method: str = ""
    bulk_id: str | None = None
    path: str = ""
    data: Any = None
    version: str | None = None
    error: ScimError | None = None
    needs: set[str] = attrs.field(factory=set)


def _folded(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k.casefold(): v for k, v in value.items() if isinstance(k, str)}


def _read(index: int, raw: Any) -> _Operation:
    op = _Operation(index)
    if not isinstance(raw, Mapping):
        op.error = InvalidSyntax(f"Operation {index} is not an object.")
        return op
    fields = _folded(raw)
    method = fields.get("method")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        op.error = InvalidSyntax(
            f"Operation {index}: 'method' must be one of {', '.join(_METHODS)}."
        )
    else:
        op.method = method.upper()
    bulk_id = fields.get("bulkid")
    if bulk_id is not None and (not isinstance(bulk_id, str) or not bulk_id):
        op.error = op.error or InvalidValue(f"Operation {index}: 'bulkId' must be a string.")
    else:
        op.bulk_id = bulk_id
    if op.method == "POST" and op.bulk_id is None:
        op.error = op.error or InvalidValue(f"Operation {index}: a POST needs a 'bulkId'.")
    path = fields.get("path")
    if not isinstance(path, str) or not path:
        op.error = op.error or InvalidValue(f"Operation {index}: 'path' is required.")
    else:
        op.path = path
    version = fields.get("version")
    op.version = version if isinstance(version, str) else None
    op.data = fields.get("data")
    if op.method in ("POST", "PUT", "PATCH") and not isinstance(op.data, Mapping):
        op.error = op.error or InvalidSyntax(f"Operation {index}: 'data' must be an object.")
    op.needs = references(op.path) | references(op.data)
    return op


def _order(operations: list[_Operation], producers: Mapping[str, _Operation]) -> list[_Operation]:
    """Dependency order (Kahn's algorithm, ties by position); a cycle is left out."""
    waiting: dict[int, int] = {}
    dependants: dict[int, list[_Operation]] = {}
    ready: list[tuple[int, int]] = []
    for op in operations:
        deps = {
            producers[b].index
            for b in op.needs
            if b in producers and producers[b].index != op.index
        }
        waiting[op.index] = len(deps)
        for dep in deps:
            dependants.setdefault(dep, []).append(op)
        if not deps:
            heapq.heappush(ready, (op.index, op.index))
    by_index = {op.index: op for op in operations}
    ordered: list[_Operation] = []
    while ready:
        _, index = heapq.heappop(ready)
        ordered.append(by_index[index])
        for dependant in dependants.get(index, ()):
            waiting[dependant.index] -= 1
            if waiting[dependant.index] == 0:
                heapq.heappush(ready, (dependant.index, dependant.index))
    return ordered


def _check_request(body: Mapping[str, Any], max_operations: int) -> tuple[list[Any], int | None]:
    fields = _folded(body)
    schemas = fields.get("schemas")
    if not isinstance(schemas, list) or not any(
        isinstance(s, str) and s.casefold() == BULK_REQUEST_SCHEMA.casefold() for s in schemas
    ):
        raise InvalidSyntax(f"A bulk request must have 'schemas': [{BULK_REQUEST_SCHEMA!r}].")
    operations = fields.get("operations")
    if not isinstance(operations, list):
        raise InvalidSyntax("A bulk request needs an 'Operations' list.")
    if len(operations) > max_operations:
        raise PayloadTooLarge(
            f"The number of operations ({len(operations)}) exceeds the maxOperations "
            f"({max_operations})."
        )
    fail_on_errors = fields.get("failonerrors")
    if fail_on_errors is not None and (
        isinstance(fail_on_errors, bool)
        or not isinstance(fail_on_errors, int)
        or fail_on_errors < 1
    ):
        raise InvalidValue("'failOnErrors' must be a positive integer.")
    return operations, fail_on_errors


def run_bulk(
    resources: Resources, ctx: Context, body: Mapping[str, Any], *, max_operations: int
) -> Gen[dict[str, Any]]:
    """Run a BulkRequest; return the BulkResponse document (the HTTP status is 200)."""
    raw_operations, fail_on_errors = _check_request(body, max_operations)
    operations = [_read(i, raw) for i, raw in enumerate(raw_operations)]
    producers: dict[str, _Operation] = {}
    for op in operations:
        if op.bulk_id is None:
            continue
        if op.bulk_id in producers:
            raise InvalidValue(f"bulkId {op.bulk_id!r} is used by more than one operation.")
        if op.method == "POST":
            producers[op.bulk_id] = op
    ordered = _order(operations, producers)
    placed = {op.index for op in ordered}
    cyclic = [op for op in operations if op.index not in placed]
    for op in cyclic:
        op.error = op.error or Conflict(
            f"Operation {op.index} is part of a circular bulkId reference; it was not run."
        )
    results: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    errors = 0
    for op in [*ordered, *cyclic]:
        if fail_on_errors is not None and errors >= fail_on_errors:
            break
        result = yield from _run_one(resources, ctx, op, ids)
        results.append(result)
        if int(result["status"]) >= 400:
            errors += 1
    return {"schemas": [BULK_RESPONSE_SCHEMA], "Operations": results}


def _run_one(
    resources: Resources, ctx: Context, op: _Operation, ids: dict[str, str]
) -> Gen[dict[str, Any]]:
    endpoints = resources.endpoints
    base = endpoints.base(ctx.request)
    result: dict[str, Any] = {"method": op.method or "POST"}
    if op.bulk_id is not None:
        result["bulkId"] = op.bulk_id
    try:
        if op.error is not None:
            raise op.error
        missing = sorted(b for b in op.needs if b not in ids)
        if missing:
            raise Conflict(
                f"Operation {op.index} references bulkId {missing[0]!r}, "
                "which no successful POST of this request defines."
            )
        path, data = op.path, op.data
        if op.needs:  # only then is there a bulkId: to replace
            path, data = _substitute(path, ids), _substitute(data, ids)
        request = Request(
            op.method,
            path,
            headers={"If-Match": op.version} if op.version else {},
            base_url=ctx.request.base_url,
            principal=ctx.principal,
        )
        sub = attrs.evolve(ctx, request=request)
        found = endpoints.route(path)
        wanted = "collection" if op.method == "POST" else "resource"
        if found.kind != wanted:
            raise MethodNotAllowed(f"Operation {op.index}: {op.method} is not allowed on {path!r}.")
        model = endpoints.model(found.resource_type)
        if op.method == "POST":
            resource = yield from resources.create(sub, model, data)
            status = 201
        elif op.method == "PUT":
            assert found.id is not None
            resource = yield from resources.replace(sub, model, found.id, data, op.version)
            status = 200
        elif op.method == "PATCH":
            assert found.id is not None
            resource = yield from resources.patch(sub, model, found.id, data, op.version)
            status = 200
        else:
            assert found.id is not None
            yield from resources.delete(sub, model, found.id, op.version)
            result["location"] = endpoints.url(base, model, found.id)
            result["status"] = "204"
            return result
        if op.bulk_id is not None and op.method == "POST":
            ids[op.bulk_id] = resource.id
        result["location"] = endpoints.url(base, model, resource.id)
        version = getattr(getattr(resource, "meta", None), "version", None)
        if version:
            result["version"] = version
        result["status"] = str(status)
        return result
    except ScimError as error:
        failed = error
    except Exception:
        log_unexpected(log, "in bulk operation %d", op.index)
        failed = InternalServerError()
    if op.method != "POST" and op.path and "bulkId:" not in op.path:
        try:
            found = endpoints.route(op.path)
            if found.kind == "resource" and found.id is not None:
                model = endpoints.model(found.resource_type)
                result["location"] = endpoints.url(base, model, found.id)
        except ScimError:
            pass
    result["status"] = str(failed.status)
    result["response"] = failed.to_dict()
    return result
