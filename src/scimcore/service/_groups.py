"""``User.groups``: computed from the groups' ``members``, never stored (RFC 7643 §4.1.2).

Theory of operation: ``groups`` is read-only on a User; membership is changed
through the Group. So the service never lets a stored user carry ``groups``
(:meth:`Groups.strip` clears it before every write) and computes it on every
read, one store call per page of users: the store's ``memberships`` when it
has one (:class:`~scimcore.storage.SupportsMemberships`), else searches for
``members.value eq "<id>"``. A response that leaves ``groups`` out (by
``attributes`` or ``excludedAttributes``) skips the call.

Two more places follow from it:

- a filter on ``groups`` cannot reach the store (nothing is stored there):
  :meth:`Groups.rewrite_filter` replaces each condition on it with the ``id``
  filter it stands for, evaluated on the membership each group gives;
- deleting a user removes it from every group that lists it
  (:meth:`Groups.leave`), each group updated atomically.

All of it is off when the service does not serve both a ``User`` with
``groups`` and a ``Group`` with ``members``.
"""

from __future__ import annotations

import typing
from collections.abc import Generator, Sequence
from typing import Any

import attrs

from scimcore.errors import InvalidValue, NotFound
from scimcore.filter import (
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Rewriter,
    ValuePath,
    compile_filter,
    walk,
)
from scimcore.patch._request import operations
from scimcore.policy import Policy
from scimcore.service._routing import Endpoints
from scimcore.service._store_calls import Gen, Get, Memberships, Search, Update
from scimcore.storage import Page, Query
from scimcore.storage._memberships import Memberships as MembershipLists
from scimcore.storage._memberships import membership_searches

__all__ = ["Groups", "shows_groups"]

_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:user"
_ID = AttrPath(None, "id", None)


class Groups:
    """``User.groups`` for a service: computed on reads, kept out of writes and filters.

    ``native`` says whether the store answers ``memberships`` itself.
    """

    def __init__(self, endpoints: Endpoints, policy: Policy, *, native: bool) -> None:
        self.endpoints = endpoints
        self.policy = policy
        self.native = native
        self.user_model = endpoints.model_named("User", "groups")
        self.group_model = endpoints.model_named("Group", "members")
        #: The class of a ``User.groups`` element; ``None`` when groups are not computed.
        self.membership: type[Any] | None = None
        if self.user_model is not None and self.group_model is not None:
            hints = typing.get_type_hints(self.user_model)
            (self.membership,) = typing.get_args(hints["groups"])

    # ------------------------------------------------------------------ writes

    def strip(self, resource: Any) -> None:
        """Clear ``groups`` on a user about to be stored: it is never stored."""
        if self.membership is not None and type(resource) is self.user_model:
            resource.groups = []

    def leave(self, model: type[Any], user_id: str) -> Gen[None]:
        """Remove a deleted resource from every group that lists it, if it is a user."""
        if self.group_model is None or model is not self.user_model:
            return
        member = Compare(AttrPath(None, "members", "value"), "eq", user_id)
        page = yield Search(Query(models=(self.group_model,), filter=member))

        def without(group: Any) -> Any:
            kept = [m for m in group.members if m.value != user_id]
            return attrs.evolve(group, members=kept)

        for group in page.resources:
            try:
                yield Update(self.group_model, group.id, without)
            except NotFound:
                continue

    def check_members(self, group: Any, current: Any | None) -> Gen[None]:
        """Refuse a group whose new ``members`` name ids that no User or Group has.

        ``current`` is the group as stored (``None`` for a create): members it
        already lists are not read again. ``Policy.unknown_members`` turns the
        check off; a member's ``type`` (``User``, ``Group``) says where to look.
        """
        if self.policy.unknown_members or type(group) is not self.group_model:
            return
        known = {m.value for m in current.members} if current is not None else set()
        for index, member in enumerate(group.members):
            if not member.value or member.value in known:
                continue
            if not (yield from self._exists(member.value, member.type)):
                raise InvalidValue(
                    f"The member {member.value!r} is not the id of a "
                    f"{member.type or 'User or Group'}.",
                    location=f"$.members[{index}].value",
                )
            known.add(member.value)

    def adds_known(self, patch: Any) -> Gen[bool]:
        """For a member delta: whether every member the PATCH's ``add`` operations name is
        an existing User or Group (always true when ``Policy.unknown_members`` allows any).
        When one is not, the whole-resource PATCH decides (:meth:`check_members` refuses it
        unless the group already lists it)."""
        if self.policy.unknown_members:
            return True
        for operation in operations(patch, self.policy):
            if operation.op != "add" or not isinstance(operation.value, list):
                continue
            for element in operation.value:
                value, kind = element.get("value"), element.get("type")
                if not (yield from self._exists(value, kind if isinstance(kind, str) else None)):
                    return False
        return True

    def _exists(self, value: str, kind: str | None) -> Gen[bool]:
        """Whether ``value`` is the id of a User or a Group (of the one ``kind`` names)."""
        models = {"user": self.user_model, "group": self.group_model}
        folded = (kind or "").casefold()
        for model in [models[folded]] if folded in models else list(models.values()):
            if model is None:
                continue
            try:
                yield Get(model, value)
            except NotFound:
                continue
            return True
        return False

    # ------------------------------------------------------------------ reads

    def fill(
        self,
        base: str,
        resources: Sequence[Any],
        attributes: Sequence[str],
        excluded: Sequence[str],
    ) -> Gen[None]:
        """Set ``groups`` on every user among ``resources`` (models), if the response shows it."""
        if self.membership is None or not shows_groups(attributes, excluded):
            return
        users = {r.id: r for r in resources if type(r) is self.user_model and r.id}
        if not users:
            return
        listed = yield from self._memberships(list(users))
        for user_id, user in users.items():
            user.groups = [self.membership_of(g, d, base) for g, d in listed[user_id]]

    def fill_documents(
        self,
        base: str,
        model: type[Any] | None,
        documents: Sequence[dict[str, Any]],
        attributes: Sequence[str],
        excluded: Sequence[str],
    ) -> Gen[None]:
        """:meth:`fill` for stored documents of ``model``: set each user's ``groups``."""
        if (
            self.membership is None
            or model is not self.user_model
            or not documents
            or not shows_groups(attributes, excluded)
        ):
            return
        users = {d["id"]: d for d in documents if isinstance(d.get("id"), str)}
        listed = yield from self._memberships(list(users))
        found = {
            user_id: [self.membership_document(g, d, base) for g, d in groups]
            for user_id, groups in listed.items()
        }
        for user_id, document in users.items():
            document.pop("groups", None)
            if found[user_id]:
                # In schema order: groups comes before the extensions and meta.
                tail = {
                    k: document.pop(k)
                    for k in list(document)
                    if k == "meta" or k.startswith("urn:")
                }
                document["groups"] = found[user_id]
                document.update(tail)

    def _memberships(self, ids: list[str]) -> Gen[MembershipLists]:
        """The groups listing each user id: the store's ``memberships`` if it has one
        (:class:`~scimcore.storage.SupportsMemberships`), else searches."""
        assert self.group_model is not None
        if self.native:
            found: MembershipLists = yield Memberships(self.group_model, ids)
            return found
        return (yield from _searched(membership_searches(self.group_model, ids, self.policy)))

    def _group_url(self, group_id: str, base: str) -> str:
        assert self.group_model is not None
        return self.endpoints.url(base, self.group_model, group_id)

    def membership_document(self, group_id: str, display: str | None, base: str) -> dict[str, Any]:
        """``User.groups`` element for a group, as JSON (see :meth:`membership_of`)."""
        membership: dict[str, Any] = {"value": group_id, "$ref": self._group_url(group_id, base)}
        if display is not None:
            membership["display"] = display
        membership["type"] = "direct"
        return membership

    def membership_of(self, group_id: str, display: str | None, base: str) -> Any:
        """``User.groups`` element for a group, as a model (see :meth:`membership_document`)."""
        assert self.membership is not None
        return self.membership(
            value=group_id, ref=self._group_url(group_id, base), display=display, type="direct"
        )

    # ------------------------------------------------------------------ filters

    def rewrite_filter(self, node: Filter, models: Sequence[type[Any]]) -> Gen[Filter]:
        """Replace each condition on ``User.groups`` with the ``id`` filter it stands for.

        The groups are read once, and only when the filter mentions ``groups``
        in a query over users; each condition is evaluated on the membership
        each group would give, and becomes ``id eq …`` over the matching
        groups' members (or a filter that matches nothing).
        """
        if (
            self.membership is None
            or self.user_model not in models
            or not any(_is_groups(n) for n in walk(node, into_value_paths=False))
        ):
            return node
        assert self.group_model is not None
        page = yield Search(Query(models=(self.group_model,)))
        return _GroupsToIds(self, list(page.resources))(node)


class _GroupsToIds(Rewriter):
    """Each condition on ``User.groups`` as an ``id`` filter over the members of ``groups``."""

    def __init__(self, owner: Groups, groups: Sequence[Any]) -> None:
        self.owner = owner
        self.groups = groups

    def compare(self, node: Compare) -> Filter:
        if not _is_groups(node):
            return node
        if node.op == "ne":
            return Not(self.compare(attrs.evolve(node, op="eq")))
        if node.value is None and node.op == "eq":
            # eq null: "not pr" (another operator with null matches nothing, as in the
            # evaluator: found by `scimcore check`)
            return Not(self._ids(Present(node.path)))
        return self._ids(node)

    def present(self, node: Present) -> Filter:
        return self._ids(node) if _is_groups(node) else node

    def value_path(self, node: ValuePath) -> Filter:
        # The paths inside the brackets are relative: only the bracketed one can name groups.
        return self._ids(node) if _is_groups(node) else node

    def _ids(self, node: Filter) -> Filter:
        owner = self.owner
        assert owner.user_model is not None
        predicate = compile_filter(node, owner.user_model)
        ids: dict[str, None] = {}
        for group in self.groups:
            probe = owner.user_model(
                user_name="-", groups=[owner.membership_of(group.id, group.display_name, "")]
            )
            if predicate(probe):
                ids.update((m.value, None) for m in group.members if m.value)
        if not ids:
            return Not(Present(_ID))
        terms: list[Filter] = [Compare(_ID, "eq", i) for i in ids]
        return terms[0] if len(terms) == 1 else Or(tuple(terms))


def _searched(steps: Generator[Query, Page[Any], MembershipLists]) -> Gen[MembershipLists]:
    """``steps``, with each query it yields run as a :class:`Search`."""
    try:
        query = next(steps)
        while True:
            page = yield Search(query)
            query = steps.send(page)
    except StopIteration as stop:
        found: MembershipLists = stop.value
        return found


def _is_groups(node: Filter) -> bool:
    path = node.path if isinstance(node, Compare | Present | ValuePath) else None
    if path is None or path.name.casefold() != "groups":
        return False
    return path.urn is None or path.urn.casefold() == _USER_SCHEMA


def _names_groups(path: str) -> bool:
    urn, colon, name = path.rpartition(":")
    if colon and urn.casefold() != _USER_SCHEMA:
        return False
    return name.split(".", 1)[0].casefold() == "groups"


def shows_groups(attributes: Sequence[str], excluded: Sequence[str]) -> bool:
    """Whether a response projected this way carries ``User.groups``.

    >>> shows_groups((), ()), shows_groups(("userName",), ()), shows_groups((), ("groups",))
    (True, False, False)
    >>> shows_groups(("groups.display",), ()), shows_groups((), ("groups.display",))
    (True, True)
    """
    if attributes:
        return any(_names_groups(a) for a in attributes)
    return not any(_names_groups(e) and "." not in e.rpartition(":")[2] for e in excluded)
