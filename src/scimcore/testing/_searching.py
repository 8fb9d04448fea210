"""The contract's searches: sorting (RFC 7644 §3.4.2.3) and filters (§3.4.2.2)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.errors import InvalidFilter, InvalidValue
from scimcore.filter import parse_filter
from scimcore.models import Group, User
from scimcore.policy import Policy
from scimcore.storage import Query
from scimcore.testing._base import ContractBase, StoreShape
from scimcore.testing._data import (
    DIFFERENTIAL_FILTERS,
    DIFFERENTIAL_ROOT_FILTERS,
    DIFFERENTIAL_SORTS,
)
from scimcore.testing._differential import decode as _decode
from scimcore.testing._differential import differential as _differential
from scimcore.testing._strategies import filters_strategy, users_strategy

__all__ = ["SearchContract"]


class SearchContract(ContractBase):
    """Sorts, and filters compared with the evaluator on resources full of traps."""

    def test_sort_rules(self, store: Any, shape: StoreShape) -> None:
        if not self.supports_sort:
            pytest.skip("the store does not sort")
        for name, value in (("carol", "b"), ("alice", None), ("Bob", "a"), ("dave", "")):
            store.create(shape.user(name, value))
        text = shape.text

        def names(**kw: Any) -> list[str]:
            return [u.user_name for u in store.search(Query(models=User, **kw)).resources]

        # RFC 7644 §3.4.2.3: ascending by default, comparing as the attribute's caseExact says
        assert names(sort_by="userName") == ["alice", "Bob", "carol", "dave"]
        assert names(sort_by="userName", sort_order="descending") == [
            "dave",
            "carol",
            "Bob",
            "alice",
        ]
        assert names(sort_by=text)[:2] == ["Bob", "carol"]  # §3.4.2.3: no value sorts last
        assert set(names(sort_by=text)[2:]) == {"alice", "dave"}
        assert set(names(sort_by=text, sort_order="descending")[:2]) == {"alice", "dave"}
        with pytest.raises(InvalidValue):
            store.search(Query(models=User, sort_by="name"))  # §3.4.2.3: complex: no order
        with pytest.raises(InvalidValue):
            store.search(Query(models=User, sort_by="nosuch"))

    def test_sort_by_multi_valued_uses_primary_then_first(self, store: Any) -> None:
        if not self.supports_sort:
            pytest.skip("the store does not sort")
        data: tuple[tuple[str, list[dict[str, Any]]], ...] = (
            ("u1", [{"value": "z@x"}, {"value": "a@x", "primary": True}]),
            ("u2", [{"value": "m@x"}, {"value": "b@x"}]),
            ("u3", []),
        )
        for name, emails in data:
            store.create(_decode({"userName": name, "emails": emails}, User))
        page = store.search(Query(models=User, sort_by="emails"))  # §3.4.2.3: primary, else first
        assert [u.user_name for u in page.resources] == ["u1", "u2", "u3"]

    # -- filters -----------------------------------------------------------------------------

    def test_strict_policy_refuses_unknown_attributes(self, store: Any) -> None:
        store.create(User(user_name="x"))
        with pytest.raises(InvalidFilter):
            store.search(Query(models=User, filter='nosuch eq "x"', policy=Policy.strict()))

    def test_invalid_filters_are_refused(self, store: Any) -> None:
        store.create(User(user_name="x", active=True))
        for text in (
            "active gt true",
            'x509Certificates.value lt "MII"',
            'name eq "x"',
            "userName eq 5",
            'active co "t"',
        ):
            with pytest.raises(InvalidFilter):
                store.search(Query(models=User, filter=text))

    def test_differential_search(
        self, populated: tuple[Any, list[Any], list[Any]], shape: StoreShape
    ) -> None:
        store, users, _ = populated
        sorts = _kept_sorts(
            shape, DIFFERENTIAL_SORTS if self.supports_sort else DIFFERENTIAL_SORTS[:1]
        )
        mismatches = []
        for text in _kept_filters(shape, DIFFERENTIAL_FILTERS):
            for sort_by, order in sorts:
                problem = _differential(store, (User,), users, text, sort_by, order)
                if problem:
                    mismatches.append(problem)
        assert not mismatches, "\n".join(mismatches)

    def test_differential_search_over_several_types(
        self, populated: tuple[Any, list[Any], list[Any]], shape: StoreShape
    ) -> None:
        shape.require(Group)
        store, users, groups = populated
        sorts = (
            ((None, "ascending"), ("displayName", "ascending"), ("externalId", "descending"))
            if self.supports_sort
            else ((None, "ascending"),)
        )
        mismatches = []
        for text in (*DIFFERENTIAL_ROOT_FILTERS, *DIFFERENTIAL_FILTERS[:20]):
            for sort_by, order in sorts:
                problem = _differential(store, (User, Group), users + groups, text, sort_by, order)
                if problem:
                    mismatches.append(problem)
        assert not mismatches, "\n".join(mismatches)

    def test_differential_search_generated(self, store: Any, shape: StoreShape) -> None:
        """Generated resources × generated filters: the store agrees with the evaluator."""
        try:
            from scimcore.strategies import filters as shared_filters

            texts = st.one_of(filters_strategy(), shared_filters(User).map(str))
        except (ImportError, TypeError, AttributeError):
            texts = filters_strategy()
        sort_choices = _kept_sorts(
            shape, DIFFERENTIAL_SORTS if self.supports_sort else DIFFERENTIAL_SORTS[:1]
        )
        texts = texts.filter(lambda text: _kept_filters(shape, [text]) != [])

        @settings(
            max_examples=self.hypothesis_examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(users_strategy(), texts, st.sampled_from(sort_choices))
        def run(data: list[dict[str, Any]], text: str, sort: tuple[str | None, str]) -> None:
            created = [store.create(_decode(u, User)) for u in data]
            try:
                problem = _differential(store, (User,), created, text, *sort)
                assert problem is None, problem
            finally:
                for user in created:
                    store.delete(User, user.id)

        run()


def _kept_filters(shape: StoreShape, texts: Iterable[str]) -> list[str]:
    """The filters naming only attributes the store keeps (all of them for most stores)."""
    if shape.kept is None:
        return list(texts)
    kept = []
    for text in texts:
        try:
            node = parse_filter(text)
        except InvalidFilter:
            kept.append(text)  # a filter that does not parse is refused by every store
            continue
        if shape.keeps_filter(node):
            kept.append(text)
    return kept


def _kept_sorts(
    shape: StoreShape, sorts: Sequence[tuple[str | None, str]]
) -> list[tuple[str | None, str]]:
    """The sorts on attributes the store keeps."""
    return [(by, order) for by, order in sorts if by is None or shape.sorts_by(by)]
