"""The rules of a sync: how resources are matched, who owns each attribute, the safeguards.

Rules are data: a :class:`Rules` value says everything a run decides by, so that a plan can be
explained from it alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from scimcore.storage import comparable

__all__ = [
    "DeletionThreshold",
    "Match",
    "Rules",
    "Side",
    "attribute_value",
    "match_key",
    "unique_attributes",
]

#: The two ends of a sync.
Side = Literal["source", "target"]

#: Attributes no sync writes, whatever the ownership says: the server's own (``id``, ``meta``,
#: the read-only ``groups`` of a User), and ``password`` (never returned, so never comparable).
STRUCTURAL = frozenset({"schemas", "id", "meta", "groups"})
NEVER_WRITTEN = frozenset({"password"})


def _lower_keys(values: Mapping[str, Side]) -> dict[str, Side]:
    for path, side in values.items():
        if side not in ("source", "target"):
            raise ValueError(f"the owner of {path!r} is 'source' or 'target', not {side!r}")
    return {path.casefold(): side for path, side in values.items()}


def _lower_set(values: Any) -> frozenset[str]:
    return frozenset(str(v).casefold() for v in values)


@attrs.frozen(init=False)
class Match:
    """How a resource on one side finds its counterpart on the other.

    ``attributes`` are tried in order (``externalId``, then ``userName``, for instance, as
    identity providers do): the first the resource has a value for decides, compared in the
    attribute's comparable form (``userName`` case-insensitively, ``externalId`` exactly, as the
    schema says). A path into an extension names it with its URN
    (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber``). ``key``, a
    function of a resource returning a string (or ``None``), replaces the attributes; it cannot
    be asked of a server, so a run matching by function reads both sides whole.

    ``on_no_match`` is ``"create"`` (the counterpart is created) or ``"skip"``;
    ``on_several`` is ``"skip"`` (reported as a conflict, nothing written) or ``"fail"`` (the
    plan is refused).

    >>> Match("userName").attributes
    ('userName',)
    >>> Match("externalId", "userName", on_several="fail").on_several
    'fail'
    """

    attributes: tuple[str, ...]
    key: Callable[[Any], str | None] | None
    on_no_match: Literal["create", "skip"]
    on_several: Literal["skip", "fail"]

    def __init__(
        self,
        *attributes: str,
        key: Callable[[Any], str | None] | None = None,
        on_no_match: Literal["create", "skip"] = "create",
        on_several: Literal["skip", "fail"] = "skip",
    ) -> None:
        if not attributes and key is None:
            raise ValueError("a Match needs at least one attribute or a key function")
        if on_no_match not in ("create", "skip"):
            raise ValueError(f"on_no_match is 'create' or 'skip', not {on_no_match!r}")
        if on_several not in ("skip", "fail"):
            raise ValueError(f"on_several is 'skip' or 'fail', not {on_several!r}")
        object.__setattr__(self, "attributes", tuple(attributes))
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "on_no_match", on_no_match)
        object.__setattr__(self, "on_several", on_several)


@attrs.frozen
class DeletionThreshold:
    """How many removals (deletes and deactivations) a run may make before it refuses.

    ``count``: at most that many; ``share``: at most that share (0 to 1) of the resources of
    that type already linked. Either limit over, and :meth:`Sync.apply` stops before writing
    anything, with :class:`ThresholdExceeded` saying which limit and by how much. ``None``
    turns a limit off.

    >>> DeletionThreshold(count=5).exceeded(removals=6, population=100)
    '6 removals planned, more than the threshold of 5'
    >>> DeletionThreshold(count=None, share=0.1).exceeded(removals=3, population=20)
    '3 removals planned, 15% of 20, more than the threshold of 10%'
    >>> DeletionThreshold().exceeded(removals=2, population=1000) is None
    True
    """

    count: int | None = 500
    share: float | None = None

    def exceeded(self, *, removals: int, population: int) -> str | None:
        """Why ``removals`` out of ``population`` is over the threshold, or ``None``."""
        if self.count is not None and removals > self.count:
            return f"{removals} removals planned, more than the threshold of {self.count}"
        if self.share is not None and removals and removals > self.share * population:
            part = removals / population if population else 1.0
            return (
                f"{removals} removals planned, {part:.0%} of {population},"
                f" more than the threshold of {self.share:.0%}"
            )
        return None


@attrs.frozen
class Rules:
    """Everything a sync decides by.

    - ``users``, ``groups``: the :class:`Match` of each resource type.
    - ``owners``: attribute → the side that owns it (``"source"`` or ``"target"``); an
      attribute not named belongs to ``default_owner``. A value flows only from the side that
      owns it to the other, so a two-way sync converges and never ping-pongs. A path names a
      top-level attribute (``title``, ``emails``, ``members``), an extension by its URN, or an
      extension's attribute as ``URN:attribute``.
    - ``never_written``: attributes no sync writes on either side (``password`` always).
    - ``two_way``: resources that exist only on the target are created on the source, and
      removals on the target are carried to the source; otherwise the target is never read
      for anything but matching.
    - ``removal``: what a resource gone from its owner becomes on the other side:
      ``"deactivate"`` (``active: false``; a Group, which has no ``active``, is left as it is),
      ``"delete"``, or ``"keep"``.
    - ``threshold``: the :class:`DeletionThreshold`.
    - ``prune``: one-way only: also remove target resources that were never linked and match
      nothing in the source (a mirror); by default only what the sync itself linked is removed.

    >>> rules = Rules(owners={"title": "target"}, two_way=True)
    >>> rules.owner("Title"), rules.owner("displayName")
    ('target', 'source')
    """

    users: Match = Match("externalId", "userName")
    groups: Match = Match("externalId", "displayName")
    owners: Mapping[str, Side] = attrs.field(factory=dict, converter=_lower_keys)
    default_owner: Side = "source"
    never_written: frozenset[str] = attrs.field(default=NEVER_WRITTEN, converter=_lower_set)
    two_way: bool = False
    removal: Literal["deactivate", "delete", "keep"] = "deactivate"
    threshold: DeletionThreshold = DeletionThreshold()
    prune: bool = False

    def __attrs_post_init__(self) -> None:
        if self.removal not in ("deactivate", "delete", "keep"):
            raise ValueError(f"removal is 'deactivate', 'delete' or 'keep', not {self.removal!r}")
        if self.default_owner not in ("source", "target"):
            raise ValueError(f"default_owner is 'source' or 'target', not {self.default_owner!r}")
        if self.prune and self.two_way:
            raise ValueError("prune is for one-way syncs: a two-way sync creates, not prunes")

    def owner(self, path: str) -> Side:
        """The side that owns ``path`` (``URN:attribute`` falls back to its extension's owner)."""
        folded = path.casefold()
        if folded in self.owners:
            return self.owners[folded]
        if folded.startswith("urn:") and ":" in folded:
            extension = folded.rsplit(":", 1)[0]
            if extension in self.owners:
                return self.owners[extension]
        return self.default_owner

    def written(self, path: str) -> bool:
        """Whether a sync ever writes ``path`` (neither structural nor ``never_written``)."""
        folded = path.casefold()
        return folded not in STRUCTURAL and folded not in self.never_written

    def match_of(self, model: type[Any]) -> Match:
        """The :class:`Match` of ``model``'s resource type (``users`` for all but Groups)."""
        return self.groups if _type_name(model) == "Group" else self.users


def _type_name(model: type[Any]) -> str:
    resource_type = getattr(model, "__scim_resource_type__", None)
    name = getattr(resource_type, "name", None)
    return str(name) if name else model.__name__


def attribute_value(document: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` of a wire document (attribute names case-insensitive).

    >>> urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    >>> doc = {"userName": "bjensen", urn: {"employeeNumber": "7"}}
    >>> attribute_value(doc, "USERNAME")
    'bjensen'
    >>> attribute_value(doc, f"{urn}:employeeNumber")
    '7'
    """
    folded = {key.casefold(): value for key, value in document.items()}
    if path.casefold() in folded:
        return folded[path.casefold()]
    if path.casefold().startswith("urn:") and ":" in path:
        extension, name = path.rsplit(":", 1)
        inner = folded.get(extension.casefold())
        if isinstance(inner, Mapping):
            return attribute_value(inner, name)
    return None


def match_key(model: type[Any], path: str, value: Any) -> Any:
    """``value`` of ``path`` in its comparable form, as the schema says (``None`` stays ``None``).

    >>> from scimcore.models import User
    >>> match_key(User, "userName", "BJensen"), match_key(User, "externalId", "AbC")
    ('bjensen', 'AbC')
    """
    if value is None or value == "":
        return None
    registry = model.scim_registry()
    ref = registry.resolve(path, resource_type=model.__scim_resource_type__)
    if ref is None:
        raise ValueError(f"{_type_name(model)} has no attribute {path!r} to match on")
    return comparable(value, ref.target)


def unique_attributes(model: type[Any]) -> tuple[str, ...]:
    """The singular top-level attributes the schema makes unique (what a ``409`` is about).

    >>> from scimcore.models import Group, User
    >>> unique_attributes(User), unique_attributes(Group)
    (('userName',), ())
    """
    from scimcore.schema import UniquenessKind

    resource_type = model.__scim_resource_type__
    schema = model.scim_registry().schema(resource_type.schema)
    return tuple(
        a.name
        for a in (schema.attributes if schema is not None else ())
        if a.uniqueness is not UniquenessKind.NONE
        and not a.multi_valued
        and not a.is_complex
        and a.name != "id"
    )
