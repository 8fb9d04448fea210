"""One resource at a time: create, read, replace, patch, delete (RFC 7644 §3.3–§3.6).

Theory of operation: :class:`Resources` holds the operations on a single
resource, written once and used both by the HTTP routes (:mod:`._service`)
and by Bulk (:mod:`._bulk`), so an operation in a Bulk request gets the same
validation, hooks and errors as its plain HTTP twin. Each operation is a
generator over typed store calls (:mod:`._store_calls`).

Every write runs in this order: :meth:`Hooks.authorize`, decode the body (the
codec's creation or replacement rules), read the current resource and check
``If-Match``/``If-None-Match`` against it, the lifecycle hook
(``before_create``…), clear the computed ``User.groups``, then one store call.

Writes are optimistic: a replacement expects the version it read; a PATCH is
a :class:`~._store_calls.Update` that the store runs on the state it holds
(locked), re-applying the PATCH if that state moved since the read. When the
client sent no ``If-Match``, a write that lost a race is retried (three
attempts); with ``If-Match`` it is a 412.

Reads come in two forms: from the store's JSON when it offers it
(:class:`~scimcore.storage.SupportsDocuments`: no model is built), else from
the model; :mod:`._responses` shows both the same way.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from scimcore._log import log_unexpected
from scimcore.codecs.v2 import Context as DecodeContext
from scimcore.codecs.v2 import decode
from scimcore.errors import Mutability, PreconditionFailed
from scimcore.passwords import hash_password
from scimcore.patch import PatchResult, patch_result, touched_values
from scimcore.policy import Policy
from scimcore.schema import AttributeType, MutabilityKind, ReturnedKind, Schema
from scimcore.service._groups import Groups
from scimcore.service._hooks import Action, Context, Hooks
from scimcore.service._http import Response, json_response
from scimcore.service._params import parse_query, projection
from scimcore.service._responses import (
    check_preconditions,
    not_modified,
    resource_document,
    shown,
    version,
)
from scimcore.service._routing import Endpoints
from scimcore.service._store_calls import (
    Create,
    Delete,
    Gen,
    Get,
    GetDocument,
    Offload,
    Replace,
    StoreCall,
    Update,
    UpdateMembers,
)
from scimcore.storage import etag

log = logging.getLogger("scimcore.service")

__all__ = ["Patched", "Resources"]

#: Attempts of a write that loses a race with another writer (no If-Match given).
_ATTEMPTS = 3


@attrs.frozen(kw_only=True)
class Resources:
    """The operations on one resource, shared by the routes and Bulk.

    ``documents`` says whether the store serves reads as JSON
    (:class:`~scimcore.storage.SupportsDocuments`).
    """

    endpoints: Endpoints
    groups: Groups
    policy: Policy
    hooks: Hooks
    documents: bool
    #: Whether a PATCH that only adds members or removes them by value goes to the
    #: store's ``update_members`` (:class:`~scimcore.storage.SupportsMemberUpdate`) as a
    #: delta. Off when the host's ``before_patch`` hook must see the whole resource.
    member_deltas: bool = False

    # ------------------------------------------------------------------ reads

    def read(
        self, ctx: Context, model: type[Any], resource_id: str, *, location: bool
    ) -> Gen[Response]:
        """GET one resource (RFC 7644 §3.4.1), with ``If-None-Match`` (304) and ``If-Match``."""
        self.hooks.authorize(ctx, "read", model, resource_id)
        if self.documents:
            return self._read_document(ctx, model, resource_id, location)
        return self._read_model(ctx, model, resource_id, location)

    def _read_document(
        self, ctx: Context, model: type[Any], resource_id: str, location: bool
    ) -> Gen[Response]:
        request = ctx.request
        document: dict[str, Any] = yield GetDocument(model, resource_id)
        tag = etag(document.get("meta", {}).get("version"))
        unchanged = not_modified(request, tag)
        if unchanged is not None:
            return unchanged
        check_preconditions(request, tag, request.header("if-match"))
        attributes, excluded = projection(parse_query(request.query))
        base = self.endpoints.base(request)
        yield from self.groups.fill_documents(base, model, [document], attributes, excluded)
        url = self.endpoints.url(base, model, document.get("id"))
        headers: list[tuple[str, str]] = [("ETag", tag)] if tag is not None else []
        if location:
            headers.append(("Location", url))
        return json_response(200, shown(model, document, url, attributes, excluded), headers)

    def _read_model(
        self, ctx: Context, model: type[Any], resource_id: str, location: bool
    ) -> Gen[Response]:
        request = ctx.request
        resource = yield Get(model, resource_id)
        tag = version(resource)
        unchanged = not_modified(request, tag)
        if unchanged is not None:
            return unchanged
        check_preconditions(request, tag, request.header("if-match"))
        return (yield from self.respond(ctx, resource, location=location))

    def respond(self, ctx: Context, resource: Any, *, location: bool) -> Gen[Response]:
        """The 200 response carrying ``resource``, with its ``User.groups`` computed."""
        request = ctx.request
        attributes, excluded = projection(parse_query(request.query))
        base = self.endpoints.base(request)
        yield from self.groups.fill(base, [resource], attributes, excluded)
        return self._response(200, base, resource, attributes, excluded, location=location)

    def respond_created(self, ctx: Context, resource: Any) -> Response:
        """The 201 response to a create, with ``Location``.

        No ``User.groups`` to compute: no group can list an id made just now.
        """
        request = ctx.request
        attributes, excluded = projection(parse_query(request.query))
        base = self.endpoints.base(request)
        return self._response(201, base, resource, attributes, excluded, location=True)

    def _response(
        self,
        status: int,
        base: str,
        resource: Any,
        attributes: Sequence[str],
        excluded: Sequence[str],
        *,
        location: bool,
    ) -> Response:
        url = self.endpoints.url(base, type(resource), resource.id)
        document = resource_document(resource, url, attributes, excluded)
        headers: list[tuple[str, str]] = []
        tag = version(resource)
        if tag is not None:
            headers.append(("ETag", tag))
        if location:
            headers.append(("Location", url))
        return json_response(status, document, headers)

    # ------------------------------------------------------------------ writes

    def create(self, ctx: Context, model: type[Any], data: dict[str, Any]) -> Gen[Any]:
        """POST (RFC 7644 §3.3): the stored resource."""
        self.hooks.authorize(ctx, "create", model, None)
        resource = decode(data, model, context=DecodeContext.CREATION, policy=self.policy)
        resource = self.hooks.before_create(ctx, resource)
        resource.id = None
        self.groups.strip(resource)
        yield from self.groups.check_members(resource, None)
        if unsealed(resource, None):
            yield Offload(functools.partial(seal_secrets, resource, None))
        created = yield Create(resource)
        self._written(ctx, "create", created)
        return created

    def _written(self, ctx: Context, action: Action, resource: Any) -> None:
        """:meth:`Hooks.after_write`; its failure is logged: the write is committed."""
        if type(self.hooks).after_write is Hooks.after_write:
            return
        try:
            self.hooks.after_write(ctx, action, resource)
        except Exception:
            log_unexpected(log, "in after_write (%s)", action)

    def _write(
        self,
        ctx: Context,
        model: type[Any],
        resource_id: str,
        if_match: str | None,
        write: Callable[[Any], tuple[StoreCall, Any] | None],
        *,
        action: Action,
    ) -> Gen[Any]:
        """An optimistic write: read, check the preconditions, run ``write(current)``.

        ``write`` gives the store call that writes the change expecting the
        version read, with the resource it would store (a group's new members
        are checked on it), or ``None`` when there is nothing to write (the
        current resource is then the result). A write refused because the
        resource changed since the read is tried again, up to three times in
        all, unless the client named a version (``if_match``): then it is the
        client's 412.
        """
        for attempt in range(_ATTEMPTS):
            current = yield Get(model, resource_id)
            check_preconditions(ctx.request, version(current), if_match)
            planned = write(current)
            if planned is None:
                return current
            call, candidate = planned
            if model is self.groups.group_model:
                yield from self.groups.check_members(candidate, current)
            if isinstance(call, Replace) and unsealed(call.resource, current):
                yield Offload(functools.partial(seal_secrets, call.resource, current))
            try:
                stored = yield call
            except PreconditionFailed:
                if if_match is not None or attempt == _ATTEMPTS - 1:
                    raise
            else:
                self._written(ctx, action, stored)
                return stored
        raise AssertionError("unreachable")  # pragma: no cover

    def replace(
        self,
        ctx: Context,
        model: type[Any],
        resource_id: str,
        data: dict[str, Any],
        if_match: str | None,
    ) -> Gen[Any]:
        """PUT (RFC 7644 §3.5.1): the stored resource. ``if_match`` is ``If-Match``."""
        self.hooks.authorize(ctx, "replace", model, resource_id)
        new = decode(data, model, context=DecodeContext.REPLACEMENT, policy=self.policy)

        def write(current: Any) -> tuple[StoreCall, Any]:
            candidate = _merge_replacement(model, current, new)
            candidate = self.hooks.before_replace(ctx, current, candidate)
            candidate.id = resource_id
            self.groups.strip(candidate)
            # Sealed by _write.
            return Replace(candidate, expected_version=current.meta.version), candidate

        return self._write(ctx, model, resource_id, if_match, write, action="replace")

    def patch(
        self,
        ctx: Context,
        model: type[Any],
        resource_id: str,
        data: dict[str, Any],
        if_match: str | None,
    ) -> Gen[Any]:
        """PATCH (RFC 7644 §3.5.2): the stored resource; one that changes nothing writes nothing.

        A PATCH of a group's members that the store applies as a delta gives a
        :class:`Patched` (the ``id`` and new ``meta``) instead: the group was not read.
        """
        self.hooks.authorize(ctx, "patch", model, resource_id)
        if self.member_deltas and model is self.groups.group_model:
            values = touched_values(data, "members", self.policy)
            if values is not None and (yield from self.groups.adds_known(data)):
                meta = yield UpdateMembers(
                    model,
                    resource_id,
                    values,
                    functools.partial(patch_result, patch=data, policy=self.policy),
                    expected_version=if_match,
                )
                if meta is not None:
                    return Patched(resource_id, meta)

        def write(current: Any) -> tuple[StoreCall, Any] | None:
            result = patch_result(current, data, policy=self.policy)
            if not result.changed:
                return None
            # A store that supports update runs the change on the state it holds
            # (locked): concurrent PATCHes are serialised, never lost nor refused.
            change = self._patch_change(ctx, resource_id, data, current, result)
            slow = unsealed(result.resource, current)  # a password to hash
            update = Update(model, resource_id, change, expected_version=if_match, slow=slow)
            return update, result.resource

        return (yield from self._write(ctx, model, resource_id, if_match, write, action="patch"))

    def _patch_change(
        self,
        ctx: Context,
        resource_id: str,
        data: dict[str, Any],
        read: Any,
        result: PatchResult[Any],
    ) -> Callable[[Any], Any]:
        """The PATCH as a change of the stored resource (``result`` is its outcome on ``read``)."""

        def change(stored: Any) -> Any:
            outcome = result if stored == read else patch_result(stored, data, policy=self.policy)
            candidate = self.hooks.before_patch(ctx, stored, outcome.resource)
            candidate.id = resource_id
            self.groups.strip(candidate)
            seal_secrets(candidate, stored)
            return candidate

        return change

    def delete(
        self, ctx: Context, model: type[Any], resource_id: str, if_match: str | None
    ) -> Gen[None]:
        """DELETE (RFC 7644 §3.6); a deleted user leaves every group that listed it."""
        self.hooks.authorize(ctx, "delete", model, resource_id)
        current = yield Get(model, resource_id)
        check_preconditions(ctx.request, version(current), if_match)
        self.hooks.before_delete(ctx, current)
        yield Delete(model, resource_id, expected_version=if_match)
        yield from self.groups.leave(model, resource_id)
        self._written(ctx, "delete", current)


@attrs.frozen
class Patched:
    """A resource changed by a member delta: its ``id`` and new ``meta``, not the whole of it."""

    id: str
    meta: Any


def _secrets(schema: Schema) -> tuple[str, ...]:
    """The Python names of a schema's singular string attributes that are never returned.

    Kept by the schema's identity: hashing a ``Schema`` hashes every attribute in it
    (about 50 µs for the User schema, on every POST).
    """
    found = _SECRETS.get(id(schema))
    if found is None or found[0] is not schema:
        names = tuple(
            a.python_name
            for a in schema.attributes
            if a.returned is ReturnedKind.NEVER
            and not a.multi_valued
            and a.type is AttributeType.STRING
        )
        found = _SECRETS[id(schema)] = (schema, names)
    return found[1]


_SECRETS: dict[int, tuple[Schema, tuple[str, ...]]] = {}


def seal_secrets(resource: Any, current: Any) -> None:
    """Hash (:func:`scimcore.passwords.hash_password`) every secret of ``resource`` that changed.

    A secret is a singular string attribute that is never returned
    (``password``), in the resource or one of its extensions; ``current`` is
    the stored resource it replaces (``None`` for a creation). A value equal to
    the stored one (already a hash) is left as it is.
    """
    for holder, name, value in _new_secrets(resource, current):
        setattr(holder, name, hash_password(value))


def unsealed(resource: Any, current: Any) -> bool:
    """Whether :func:`seal_secrets` has a secret of ``resource`` to hash (slow work).

    >>> from scimcore.models import User
    >>> unsealed(User(user_name="b", password="pw"), None), unsealed(User(user_name="b"), None)
    (True, False)
    """
    return next(_new_secrets(resource, current), None) is not None


def _new_secrets(resource: Any, current: Any) -> Iterator[tuple[Any, str, str]]:
    """``(holder, attribute name, value)`` of each secret of ``resource`` that differs from
    ``current``'s, the holder being the resource or one of its extensions."""
    holders = [(resource, current, type(resource).__scim_schema__)]
    for urn, extension in getattr(resource, "extensions", {}).items():
        old = getattr(current, "extensions", {}).get(urn) if current is not None else None
        holders.append((extension, old, type(extension).__scim_schema__))
    for holder, old, schema in holders:
        for name in _secrets(schema):
            value = getattr(holder, name, None)
            if isinstance(value, str) and value != getattr(old, name, None):
                yield holder, name, value


def _merge_replacement(model: type[Any], current: Any, new: Any) -> Any:
    """PUT rules where the codec cannot decide alone (RFC 7644 §3.5.1).

    An immutable attribute that has a value must be given unchanged
    (``mutability`` otherwise); a ``returned: never`` attribute the client
    left out (``password``: it could not have read it) keeps its value.
    """
    candidate = attrs.evolve(new)
    schema: Schema = model.__scim_schema__
    for attribute in schema.attributes:
        name = attribute.python_name
        old_value = getattr(current, name, None)
        value = getattr(candidate, name, None)
        empty = value is None or value == []
        if attribute.mutability is MutabilityKind.IMMUTABLE and old_value not in (None, []):
            if empty:
                setattr(candidate, name, old_value)
            elif value != old_value:
                raise Mutability(f"'{attribute.name}' is immutable and already has a value.")
        elif attribute.returned is ReturnedKind.NEVER and empty and old_value is not None:
            setattr(candidate, name, old_value)
    return candidate
