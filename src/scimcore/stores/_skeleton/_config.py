"""What every shipped store is configured with, and how it names resource types."""

from __future__ import annotations

import datetime
import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from scimcore.errors import InvalidValue, NotFound
from scimcore.filter import And, Compare, Filter, Or
from scimcore.storage._cursor import CursorCodec
from scimcore.storage._query import Query, registry_of, resource_type_of
from scimcore.stores._skeleton._rules import UniqueRule, lookup_refs, unique_rules
from scimcore.stores._skeleton._search import remembered
from scimcore.stores.sql._document import document_keys

__all__ = [
    "DEFAULT_LOOKUPS",
    "Clock",
    "StoreConfig",
    "default_models",
    "per_type",
    "utcnow",
]

Clock = Callable[[], datetime.datetime]

#: The lookups identity providers make, indexed by default (resource type → paths).
DEFAULT_LOOKUPS: Mapping[str, tuple[str, ...]] = {
    "User": ("userName", "externalId", "emails.value"),
    "Group": ("displayName", "externalId", "members.value"),
}


def utcnow() -> datetime.datetime:
    """Now, in UTC (the default clock of the stores)."""
    return datetime.datetime.now(datetime.UTC)


def default_models() -> tuple[type[Any], ...]:
    """``(User, Group)``: what a store keeps unless told otherwise.

    >>> [model.__name__ for model in default_models()]
    ['User', 'Group']
    """
    from scimcore.models import Group, User

    return (User, Group)


def per_type(paths: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """A constructor's ``{"User": [paths]}`` by folded resource type name.

    >>> per_type({"User": ["externalId"]})
    {'user': ('externalId',)}
    """
    return {name.casefold(): tuple(found) for name, found in (paths or {}).items()}


class StoreConfig:
    """The constructor arguments every shipped store shares, resolved once.

    - ``models``: the resource models kept (default ``User`` and ``Group``), by
      folded resource type name in ``by_name`` (two models for one type are refused);
    - ``unique``: unique attributes per resource type beyond the schema's own
      (``{"User": ["externalId"]}``), as :class:`UniqueRule` s in ``rules``;
    - ``lookups``: the attribute paths indexed for ``eq`` per resource type, as
      lookup key → search-document keys in ``lookups`` (``None``: none; a store
      passes :data:`DEFAULT_LOOKUPS`), plus ``always_indexed`` paths of every type;
    - ``clock`` and ``cursor_timeout`` (seconds an RFC 9865 cursor stays valid).

    >>> from scimcore.models import Group, User
    >>> config = StoreConfig(unique={"User": ["externalId"]}, lookups=DEFAULT_LOOKUPS)
    >>> config.name(User), [rule.name for rule in config.rules["user"]]
    ('user', ['userName', 'externalId'])
    >>> sorted(config.lookups["group"])
    ['group/displayname', 'group/externalid', 'group/members/value']
    """

    def __init__(
        self,
        models: Iterable[type[Any]] | None = None,
        *,
        unique: Mapping[str, Sequence[str]] | None = None,
        lookups: Mapping[str, Sequence[str]] | None = None,
        always_indexed: Sequence[str] = (),
        clock: Clock = utcnow,
        cursor_timeout: float | None = 3600.0,
    ) -> None:
        self.models = tuple(models) if models is not None else default_models()
        self.by_name: dict[str, type[Any]] = {}
        for model in self.models:
            name = resource_type_of(model).name.casefold()
            if self.by_name.get(name, model) is not model:
                raise ValueError(f"two models for resource type {name!r}")
            self.by_name[name] = model
        extra = per_type(unique)
        self.rules: dict[str, tuple[UniqueRule, ...]] = {
            name: unique_rules(model, extra.get(name, ())) for name, model in self.by_name.items()
        }
        wanted = per_type(lookups)
        self.lookups: dict[str, dict[str, tuple[str, ...]]] = {
            name: lookup_refs(model, dict.fromkeys((*always_indexed, *wanted.get(name, ()))))
            for name, model in self.by_name.items()
        }
        self.clock = clock
        self.cursor_timeout = cursor_timeout
        self._names = {model: name for name, model in self.by_name.items()}

    def name(self, model: type[Any]) -> str:
        """The folded resource type name a model's resources are kept under.

        :class:`~scimcore.errors.InvalidValue` for a model the store does not keep.
        """
        try:
            return self._names[model]
        except KeyError:
            raise InvalidValue(
                f"This store does not keep {resource_type_of(model).name} resources."
            ) from None

    def quick(self, query: Query) -> bool:
        """Whether a store with these lookups indexed answers ``query`` examining only a
        few rows: one resource type, no ``sortBy``, and no filter (a page in creation
        order) or one that an index answers: ``eq`` on an indexed lookup, alone, as a
        term of an ``and``, or in every term of an ``or``.

        >>> from scimcore.models import User
        >>> config = StoreConfig(lookups=DEFAULT_LOOKUPS)
        >>> config.quick(Query(models=User, filter='userName eq "b" and title co "x"'))
        True
        >>> config.quick(Query(models=User, filter='title eq "x"'))
        False
        """
        if query.sort_by is not None or len(query.models) != 1:
            return False
        node, model = query.filter, query.models[0]
        if node is None:
            return True
        name = self._names.get(model)
        if name is None:
            return False
        return remembered(node, ("quick", model), lambda: self._seeks(node, model, name))

    def _seeks(self, node: Filter, model: type[Any], name: str) -> bool:
        if isinstance(node, And):
            return any(self._seeks(operand, model, name) for operand in node.operands)
        if isinstance(node, Or):
            return all(self._seeks(operand, model, name) for operand in node.operands)
        if not isinstance(node, Compare) or node.op != "eq" or node.value is None:
            return False
        resource_type = resource_type_of(model)
        ref = registry_of(model).resolve(str(node.path), resource_type=resource_type)
        if ref is None or ref.target.is_complex:
            return False
        return document_keys(ref, resource_type) in self.lookups[name].values()

    def member_delta_key(self, name: str) -> str | None:
        """The lookup key of ``members.value`` in type ``name``, when a member delta keeps
        the index tables exact by writing only that key's rows: it is indexed, and no other
        lookup and no unique rule reads ``members``. Else ``None`` (no delta).

        >>> StoreConfig(lookups=DEFAULT_LOOKUPS).member_delta_key("group")
        'group/members/value'
        """
        lookups = self.lookups[name]
        under = [key for key, keys in lookups.items() if keys[0] == "members"]
        if under != [key for key, keys in lookups.items() if keys == ("members", "value")]:
            return None
        if not under or any(rule.keys[0] == "members" for rule in self.rules[name]):
            return None
        return under[0]

    def not_found(self, name: str, resource_id: str | None) -> NotFound:
        """The error for an ``id`` no resource of this type has."""
        return NotFound(f"{self.by_name[name].__name__} {resource_id!r} not found.")

    def cursors(self, secret: bytes | None) -> CursorCodec:
        """The codec of the store's RFC 9865 cursors, signed with ``secret``."""
        return CursorCodec(secret, timeout=self.cursor_timeout)

    def index_digest(self, **more: Any) -> str:
        """A digest of what a SQL store's index tables are built with (the Unicode
        version, the lookups, and ``more``): on a change, the store rebuilds them."""
        data = {
            "unicode": unicodedata.unidata_version,
            "lookups": {name: sorted(keys) for name, keys in self.lookups.items()},
            "documents": 1,
            **more,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
