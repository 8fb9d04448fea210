"""What every part of the store contract has: its settings and its fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import attrs
import pytest

from scimcore.filter import AttrPath, Compare, Present, ValuePath, walk
from scimcore.filter import Filter as FilterNode
from scimcore.models import Group, User
from scimcore.schema import AttributeType
from scimcore.storage import ResourceStore
from scimcore.testing._data import TRAP_GROUPS, TRAP_USERS
from scimcore.testing._differential import decode

__all__ = ["ContractBase", "StoreShape"]

#: The singular text attributes of User the contract changes in its update tests, in the
#: order it prefers them: the first one the store keeps is used.
TEXT_ATTRIBUTES = ("title", "displayName", "nickName", "userType", "profileUrl", "locale")


@attrs.frozen
class StoreShape:
    """What the store under test keeps, read from it without a write: its resource types
    (``store.models``, or ``(store.model,)``) and, for a store over a host's own table,
    the User attributes its ``served_schema`` names (``None``: every attribute).

    The contract tests only what a store keeps: a part on Groups is skipped for a
    Users-only store, a test that changes ``title`` changes another text attribute of
    User (``text``), and the differential searches leave out filters and sorts on
    attributes the store does not keep.
    """

    models: tuple[type[Any], ...]
    #: Casefolded ``urn:attr`` and ``urn:attr.sub`` of the User attributes kept.
    kept: frozenset[str] | None
    #: The wire name of the singular text attribute of User that update tests change.
    text: str

    @classmethod
    def of(cls, store: Any) -> StoreShape:
        models = getattr(store, "models", None)
        if models is None:
            model = getattr(store, "model", None)
            models = (model,) if model is not None else (User, Group)
        served = getattr(store, "served_schema", None)
        kept: frozenset[str] | None = None
        if served is not None:
            names = set()
            registry = User.scim_registry()
            resource_type = User.__scim_resource_type__
            for urn in (resource_type.schema, *resource_type.extension_urns):
                schema = registry.schema(urn)
                if schema is None:
                    continue
                for attribute in served(schema).attributes:
                    top = f"{schema.id}:{attribute.name}".casefold()
                    names.add(top)
                    names.update(f"{top}.{sub.name}".casefold() for sub in attribute.sub_attributes)
            kept = frozenset(names)
        shape = cls(tuple(models), kept, "title")
        text = next((name for name in TEXT_ATTRIBUTES if shape.keeps(name)), "title")
        return attrs.evolve(shape, text=text)

    def keeps(self, path: str | AttrPath) -> bool:
        """Whether the store keeps the User attribute ``path`` (``name.givenName``,
        ``emails.value``, a URN-qualified name)."""
        if self.kept is None:
            return True
        ref = User.scim_registry().resolve(str(path), resource_type=User.__scim_resource_type__)
        if ref is None:
            return True  # unknown to the schema: the store must treat it as any store does
        if ref.common:
            return True
        top = f"{ref.schema.id}:{ref.chain[0].name}".casefold()
        if len(ref.chain) == 1:
            return top in self.kept
        return f"{top}.{ref.chain[1].name}".casefold() in self.kept

    def sorts_by(self, path: str) -> bool:
        """Whether the contract sorts this store by ``path``: any attribute of a store that
        keeps them all; a kept singular one of a store over a host's table (its
        multi-valued attributes are columns picked by a filter, with no order of their own)."""
        if self.kept is None:
            return True
        ref = User.scim_registry().resolve(path, resource_type=User.__scim_resource_type__)
        multi = ref is not None and any(a.multi_valued for a in ref.chain)
        return self.keeps(path) and not multi

    def keeps_filter(self, node: FilterNode) -> bool:
        """Whether every attribute a filter names is kept; inside a ``[…]`` the paths are
        sub-attributes of the bracketed one (``emails[primary eq true]`` names
        ``emails.primary``)."""
        paths: list[str | AttrPath] = []
        for part in walk(node, into_value_paths=False):
            if isinstance(part, ValuePath):
                paths.append(part.path)
                paths.extend(
                    f"{part.path}.{inner.path.name}"
                    for inner in walk(part.filter)
                    if isinstance(inner, Compare | Present)
                )
            else:
                path = getattr(part, "path", None)
                if isinstance(path, AttrPath):
                    paths.append(path)
        return all(self.keeps(path) for path in paths)

    def require(self, model: type[Any]) -> None:
        """Skip the test unless the store keeps ``model``."""
        if model not in self.models:
            pytest.skip(f"the store keeps no {model.__name__} resources")

    def user(self, user_name: str, text: str | None) -> Any:
        """A new User with ``userName`` and the text attribute (:attr:`text`) set."""
        user = User(user_name=user_name)
        setattr(user, self.text_attribute(), text)
        return user

    def text_attribute(self) -> str:
        """The Python name of :attr:`text`."""
        ref = User.scim_registry().resolve(self.text, resource_type=User.__scim_resource_type__)
        if ref is None or ref.target.type is not AttributeType.STRING:
            raise ValueError(f"{self.text!r} is not a text attribute of User")
        return ref.target.python_name


class ContractBase:
    """The settings and fixtures of :class:`~scimcore.testing.StoreContract`."""

    #: Whether the store pages with RFC 9865 cursors.
    supports_cursors: ClassVar[bool] = True
    #: Whether the store sorts (``sortBy``).
    supports_sort: ClassVar[bool] = True
    #: Examples of the Hypothesis differential run.
    hypothesis_examples: ClassVar[int] = 200
    #: Writer threads in the concurrency tests.
    threads: ClassVar[int] = 8
    #: An ``id`` a client may give a new resource (a store keyed by integers takes digits).
    given_id: ClassVar[str] = "fixed-id"

    def thread_done(self) -> None:
        """Called by each writer thread the contract starts, as it ends: a store whose
        connections are per thread (Django's) closes that thread's here.

        >>> ContractBase().thread_done()  # nothing by default
        """

    @pytest.fixture
    def store(self) -> Iterator[ResourceStore]:
        """The store under test: override in the subclass."""
        raise NotImplementedError("give StoreContract a 'store' fixture")

    @pytest.fixture
    def shape(self, store: Any) -> StoreShape:
        """What the store keeps (see :class:`StoreShape`)."""
        return StoreShape.of(store)

    @pytest.fixture
    def populated(self, store: Any, shape: StoreShape) -> tuple[Any, list[Any], list[Any]]:
        """The store with :data:`TRAP_USERS` and :data:`TRAP_GROUPS` (when it keeps Groups)
        in it."""
        users = [store.create(decode(u, User)) for u in TRAP_USERS]
        groups = []
        if Group in shape.models:
            groups = [store.create(decode(g, Group)) for g in TRAP_GROUPS]
        return store, users, groups

    def _users(self, store: Any, n: int) -> list[Any]:
        """``n`` new users, ``user00``…"""
        return [store.create(User(user_name=f"user{i:02d}")) for i in range(n)]
