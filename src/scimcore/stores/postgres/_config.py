"""The PostgreSQL store's configuration: the skeleton's, plus schema, delta attributes, sorts."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from scimcore.errors import ScimError, Uniqueness
from scimcore.schema import AttributeRef
from scimcore.storage._query import registry_of, resource_type_of
from scimcore.stores._skeleton import DEFAULT_LOOKUPS, Clock, StoreConfig, UniqueRule, per_type
from scimcore.stores.sql._compiler import kind_of

__all__ = ["CONSTRAINT_ID", "DEFAULT_DELTA", "DEFAULT_SORTS", "PostgresConfig", "index_name"]

#: Multi-valued attributes kept one element per row and written as deltas.
DEFAULT_DELTA: Mapping[str, tuple[str, ...]] = {"Group": ("members",)}

#: Attributes with a sort index (resource type → attribute paths).
DEFAULT_SORTS: Mapping[str, tuple[str, ...]] = {"User": ("userName",), "Group": ("displayName",)}

#: The constraint that keeps ``(resource_type, id)`` unique.
CONSTRAINT_ID = "scim_resources_id"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def index_name(prefix: str, key: str) -> str:
    """The name of an expression index: ``prefix`` and a digest of what it indexes.

    >>> index_name("scim_unique", "user/username")
    'scim_unique_...'
    """
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class PostgresConfig(StoreConfig):
    """:class:`~scimcore.stores._skeleton.StoreConfig` with what PostgreSQL adds.

    - ``schema``: the PostgreSQL schema of the tables (a lower-case identifier),
      or ``None`` for the connection's ``search_path``;
    - ``delta[name]``: the multi-valued attributes kept one element per row in
      ``scim_values`` (folded name → wire name; default ``Group.members``);
    - ``sorts[name]``: the attributes with a sort index (default ``userName``,
      Group ``displayName``);
    - ``unique_indexes``: index name → the uniqueness rule it enforces.

    Lookups are text only, unique and sort attributes singular: a configuration
    that asks otherwise is a ``ValueError``.
    """

    def __init__(
        self,
        schema: str | None,
        models: Iterable[type[Any]] | None,
        *,
        unique: Mapping[str, Sequence[str]] | None,
        lookups: Mapping[str, Sequence[str]] | None,
        delta: Mapping[str, Sequence[str]] | None,
        sorts: Mapping[str, Sequence[str]] | None,
        clock: Clock,
        cursor_timeout: float | None,
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema must be a lower-case SQL identifier, not {schema!r}")
        wanted = per_type(lookups or DEFAULT_LOOKUPS)
        super().__init__(
            models, unique=unique, lookups=wanted, clock=clock, cursor_timeout=cursor_timeout
        )
        self.schema = schema
        for name, model in self.by_name.items():
            for path in wanted.get(name, ()):
                ref = registry_of(model).resolve(path, resource_type=resource_type_of(model))
                if ref is not None and kind_of(ref.target) != "text":
                    raise ValueError(
                        f"{model.__name__}.{path}: PostgresStore indexes text lookups only"
                    )
        deltas = per_type(DEFAULT_DELTA if delta is None else delta)
        self.delta: dict[str, dict[str, str]] = {}  # type → folded attr → wire name
        for name, model in self.by_name.items():
            found: dict[str, str] = {}
            for path in deltas.get(name, ()):
                attribute = model.__scim_schema__.attribute(path)
                if attribute is None or not attribute.multi_valued:
                    raise ValueError(f"{model.__name__}.{path} is not a multi-valued attribute")
                found[attribute.name.casefold()] = attribute.name
            self.delta[name] = found
        wanted_sorts = per_type(DEFAULT_SORTS if sorts is None else sorts)
        self.sorts: dict[str, tuple[AttributeRef, ...]] = {}
        for name, model in self.by_name.items():
            refs = []
            for path in wanted_sorts.get(name, ()):
                ref = registry_of(model).resolve(path, resource_type=resource_type_of(model))
                if ref is None or any(a.multi_valued for a in ref.chain) or ref.target.is_complex:
                    raise ValueError(
                        f"{model.__name__}.{path}: a sort index needs a singular, simple attribute"
                    )
                refs.append(ref)
            self.sorts[name] = tuple(refs)
        self.unique_indexes: dict[str, UniqueRule] = {}
        for rules in self.rules.values():
            for rule in rules:
                if any(a.multi_valued for a in rule.ref.chain):
                    raise ValueError(
                        f"{rule.name}: PostgresStore enforces uniqueness of singular "
                        "attributes only"
                    )
                self.unique_indexes[index_name("scim_unique", rule.key)] = rule

    def unique_error(self, constraint: str | None, detail: str) -> ScimError:
        """The Uniqueness error for a violated unique index or constraint."""
        if constraint == CONSTRAINT_ID:
            return Uniqueness("id is already taken.")
        rule = self.unique_indexes.get(constraint or "")
        if rule is not None:
            found = re.search(r"=\((.*)\) already exists", detail or "")
            value = found.group(1) if found else "the value"
            return Uniqueness(f"{rule.name} {value!r} is already taken.")
        return Uniqueness("A unique value is already taken.")

    def digest(self) -> str:
        """What the index tables are built with: a change rebuilds them on open."""
        return self.index_digest(delta={name: sorted(d) for name, d in self.delta.items()})
