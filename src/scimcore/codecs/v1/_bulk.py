"""SCIM 1.1 Bulk (Protocol 1.1 §3.5) as SCIM 2.0 Bulk, both ways.

The 1.1 bulk request has the 2.0 shape with the 1.1 URN and 1.1 ``data``; the
1.1 response carries ``"status": {"code": "201"}`` (and a ``description`` on
failure) where 2.0 has ``"status": "201"`` and a ``response`` Error object. A
1.1 PATCH in a bulk request is translated without the current resource, so a
multi-valued value is always an ``add`` (a no-op when an equal value is
already there) rather than a merge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scimcore.codecs import v2
from scimcore.codecs.v1._patch import decode_patch
from scimcore.codecs.v1._translate import CORE_SCHEMA, resource_to_v2
from scimcore.errors import InvalidSyntax
from scimcore.models import BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA, Resource
from scimcore.policy import Policy

__all__ = ["bulk_request_to_v2", "bulk_response_to_v1", "bulk_response_to_v2"]


def _folded(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k.casefold(): v for k, v in data.items() if isinstance(k, str)}


def _model_for(path: Any, models: Sequence[type[Resource]]) -> type[Resource] | None:
    if not isinstance(path, str):
        return None
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    if segments and segments[0].casefold() == "v1":
        segments = segments[1:]
    if not segments:
        return None
    for model in models:
        if model.__scim_resource_type__.endpoint.strip("/").casefold() == segments[0].casefold():
            return model
    return None


def bulk_request_to_v2(
    data: Mapping[str, Any],
    models: Sequence[type[Resource]] | None = None,
    *,
    policy: Policy | None = None,
) -> dict[str, Any]:
    """The 2.0 BulkRequest for a 1.1 bulk request; ``models`` are the resource types served.

    >>> from scimcore.models import User
    >>> bulk_request_to_v2({"schemas": ["urn:scim:schemas:core:1.0"], "Operations": [
    ...     {"method": "POST", "path": "/Users", "bulkId": "qwerty",
    ...      "data": {"schemas": ["urn:scim:schemas:core:1.0"], "userName": "Alice"}}]})
    {'schemas': ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
     'Operations': [{'method': 'POST', 'path': '/Users', 'bulkId': 'qwerty',
                     'data': {'schemas': ['urn:ietf:params:scim:schemas:core:2.0:User'],
                              'userName': 'Alice'}}]}
    """
    if not isinstance(data, Mapping):
        raise InvalidSyntax("A bulk request is a JSON object.")
    if models is None:
        from scimcore.models import Group, User

        models = (User, Group)
    fields = _folded(data)
    out: dict[str, Any] = {"schemas": [BULK_REQUEST_SCHEMA]}
    if "failonerrors" in fields:
        out["failOnErrors"] = fields["failonerrors"]
    operations = fields.get("operations")
    if not isinstance(operations, list):
        out["Operations"] = operations
        return out
    translated: list[Any] = []
    for operation in operations:
        if not isinstance(operation, Mapping):
            translated.append(operation)
            continue
        op = dict(operation)
        keys = {k.casefold(): k for k in op if isinstance(k, str)}
        method = op.get(keys.get("method", "method"))
        model = _model_for(op.get(keys.get("path", "path")), models)
        data_key = keys.get("data")
        body = op.get(data_key) if data_key is not None else None
        if model is not None and isinstance(body, Mapping) and isinstance(method, str):
            if method.upper() in ("POST", "PUT"):
                op[data_key] = resource_to_v2(body, model)
            elif method.upper() == "PATCH":
                patch = decode_patch(body, model, policy=policy)
                op[data_key] = v2.encode(patch)
        translated.append(op)
    out["Operations"] = translated
    return out


def bulk_response_to_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """The 1.1 bulk response for a 2.0 BulkResponse: ``status: {"code", "description"}``.

    A successful DELETE is ``200``, as a 1.1 DELETE is.

    >>> bulk_response_to_v1({"Operations": [
    ...     {"method": "POST", "bulkId": "q", "status": "400",
    ...      "response": {"status": "400", "scimType": "invalidSyntax", "detail": "d"}}]})
    {'schemas': ['urn:scim:schemas:core:1.0'],
     'Operations': [{'method': 'POST', 'bulkId': 'q',
                     'status': {'code': '400', 'description': '[invalidSyntax] d'}}]}
    """
    out: list[dict[str, Any]] = []
    for operation in data.get("Operations") or ():
        op = {k: v for k, v in operation.items() if k not in ("status", "response")}
        code = str(operation.get("status"))
        if code == "204" and str(operation.get("method", "")).upper() == "DELETE":
            code = "200"
        status: dict[str, Any] = {"code": code}
        response = operation.get("response")
        if int(code) >= 400 and isinstance(response, Mapping):
            detail = response.get("detail") or ""
            scim_type = response.get("scimType")
            status["description"] = f"[{scim_type}] {detail}" if scim_type else detail
        op["status"] = status
        out.append(op)
    return {"schemas": [CORE_SCHEMA], "Operations": out}


def bulk_response_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """The 2.0 BulkResponse for a 1.1 bulk response (the inverse of :func:`bulk_response_to_v1`).

    >>> bulk_response_to_v2({"Operations": [{"method": "POST", "bulkId": "q",
    ...     "status": {"code": "400", "description": "d"}}]})["Operations"]
    [{'method': 'POST', 'bulkId': 'q', 'status': '400',
      'response': {'schemas': ['urn:ietf:params:scim:api:messages:2.0:Error'], 'status': '400',
                   'detail': 'd'}}]
    """
    from scimcore.codecs.v1._api import decode_error

    out: list[dict[str, Any]] = []
    for operation in _folded(data).get("operations") or ():
        op = {k: v for k, v in operation.items() if k != "status"}
        status = operation.get("status")
        code = str(status.get("code")) if isinstance(status, Mapping) else str(status)
        op["status"] = code
        description = status.get("description") if isinstance(status, Mapping) else None
        if code.isdigit() and int(code) >= 400:
            error = decode_error({"Errors": [{"code": code, "description": description or ""}]})
            op["response"] = v2.encode(error)
        out.append(op)
    return {"schemas": [BULK_RESPONSE_SCHEMA], "Operations": out}
