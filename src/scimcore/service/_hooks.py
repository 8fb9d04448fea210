"""Hooks: where a host plugs its own rules into the service.

Subclass :class:`Hooks` and override what you need; every method has a
default that does nothing special. They are called in this order for each
request: :meth:`~Hooks.authenticate` (after the built-in bearer tokens, when
the service has some), :meth:`~Hooks.authorize` before each operation, then
for writes the lifecycle hook (``before_create``, ``before_replace``,
``before_patch``, ``before_delete``) just before the store is called, and
:meth:`~Hooks.after_write` once the store has committed the write; a request
answered with an error calls :meth:`~Hooks.on_error`. Raise a
:class:`~scimcore.ScimError` (``Unauthorized``, ``Forbidden``, ``InvalidValue``…)
from a ``before`` hook to refuse the request with that error; what ``after_write``
and ``on_error`` raise is logged and changes nothing (the write is committed).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

import attrs

from scimcore.errors import ScimError, Unauthorized
from scimcore.service._http import Request

__all__ = ["Action", "BearerTokens", "Context", "Hooks"]

R = TypeVar("R")

#: What :meth:`Hooks.authorize` is asked about.
Action = Literal["read", "search", "create", "replace", "patch", "delete", "bulk", "discovery"]


@attrs.frozen
class Context:
    """What a hook knows about the request it is called for.

    ``principal`` is what :meth:`Hooks.authenticate` returned (or the request's
    own ``principal``); ``service`` is the :class:`~scimcore.ScimService`
    serving the request (typed ``Any`` here: the service module imports this
    one, never the other way round).
    """

    request: Request
    principal: object
    service: Any

    @property
    def tenant(self) -> str | None:
        """The tenant the serving service is for (``ScimService(tenant=…)``), or ``None``."""
        tenant: str | None = getattr(self.service, "tenant", None)
        return tenant


class Hooks:
    """The default hooks: everyone who passes authentication may do everything.

    A host that gives every user created through SCIM a default role, as
    SaaS products commonly do:

    >>> from scimcore.models import Role, User
    >>> class DefaultRole(Hooks):
    ...     def before_create(self, ctx, resource):
    ...         if isinstance(resource, User) and not resource.roles:
    ...             resource.roles.append(Role(value="member"))
    ...         return resource
    >>> DefaultRole().before_create(None, User(user_name="bjensen")).roles
    [Role(value='member', display=None, type=None, primary=None)]
    """

    def authenticate(self, request: Request) -> object:
        """Who sends ``request``; raise :class:`~scimcore.Unauthorized` to refuse it.

        Called after the service's bearer tokens (if any) accepted the request.
        The default returns ``request.principal``, which a host framework sets
        when it authenticated the request itself.
        """
        return request.principal

    def authorize(
        self, ctx: Context, action: Action, model: type[Any] | None, resource_id: str | None
    ) -> None:
        """Allow or refuse one operation; raise :class:`~scimcore.Forbidden` to refuse.

        ``model`` is the resource model concerned (``None`` for a query over
        every type, Bulk and discovery); ``resource_id`` the resource's id when
        there is one. Bulk asks once for the request, then once per operation.
        """

    def me(self, ctx: Context) -> tuple[type[Any], str] | None:
        """The resource ``/Me`` stands for: ``(model, id)``, or ``None`` (``/Me`` answers 501).

        RFC 7644 §3.11: the authenticated subject's own resource.
        """
        return None

    def before_create(self, ctx: Context, resource: R) -> R:
        """Change or check a resource before it is created; return the one to store."""
        return resource

    def before_replace(self, ctx: Context, current: R, resource: R) -> R:
        """Change or check a PUT replacement before it is stored; return the one to store."""
        return resource

    def before_patch(self, ctx: Context, current: R, resource: R) -> R:
        """Change or check a patched resource before it is stored; return the one to store."""
        return resource

    def before_delete(self, ctx: Context, current: Any) -> None:
        """Check a resource before it is deleted; raise to refuse."""

    def after_write(self, ctx: Context, action: Action, resource: Any) -> None:
        """Called once the store has committed a write (a route's or a Bulk operation's).

        ``action`` is ``"create"``, ``"replace"``, ``"patch"`` or ``"delete"``;
        ``resource`` is the resource as stored (for a delete, as it was). Send
        the invitation, emit the event here: ``ctx.tenant`` says for whom. A
        PATCH that changes nothing writes nothing and calls nothing.
        """

    def on_error(self, ctx: Context, error: ScimError) -> None:
        """Called for a request answered with an error (``ctx.principal`` is ``None``
        when it was refused before authentication; a 500's ``error`` says nothing of
        the bug, which is logged)."""


class BearerTokens:
    """Static bearer tokens (RFC 6750), compared in constant time.

    >>> tokens = BearerTokens(["s3cret"])
    >>> tokens.check(Request("GET", "/Users", headers={"Authorization": "Bearer s3cret"}))
    >>> tokens.check(Request("GET", "/Users"))
    Traceback (most recent call last):
    ...
    scimcore.errors.Unauthorized: A bearer token is required (Authorization: Bearer <token>).
    >>> tokens.challenge(Request("GET", "/Users", headers={"Authorization": "Bearer nope"}))
    'Bearer realm="SCIM", error="invalid_token"'
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = tuple(t.encode("utf-8") for t in tokens if t)
        if not self._tokens:
            raise ValueError("BearerTokens needs at least one non-empty token")

    @staticmethod
    def _presented(request: Request) -> bytes | None:
        header = request.header("authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.casefold() != "bearer" or not token.strip():
            return None
        return token.strip().encode("utf-8", "surrogateescape")

    def check(self, request: Request) -> None:
        """Accept the request or raise :class:`~scimcore.Unauthorized`.

        Every token is compared, whatever the outcome, so the time taken does
        not tell which one nearly matched.
        """
        presented = self._presented(request)
        if presented is None:
            raise Unauthorized("A bearer token is required (Authorization: Bearer <token>).")
        found = False
        for token in self._tokens:
            found |= hmac.compare_digest(presented, token)
        if not found:
            raise Unauthorized("The bearer token is not valid.")

    def challenge(self, request: Request) -> str:
        """The ``WWW-Authenticate`` header of a 401 for ``request``."""
        if self._presented(request) is None:
            return 'Bearer realm="SCIM"'
        return 'Bearer realm="SCIM", error="invalid_token"'
