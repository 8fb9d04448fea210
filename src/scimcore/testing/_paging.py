"""Paging: ``startIndex`` and ``count`` (RFC 7644 §3.4.2.4) and cursors (RFC 9865)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from scimcore.errors import InvalidCursor
from scimcore.models import User
from scimcore.storage import Page, Query
from scimcore.testing._base import ContractBase, StoreShape
from scimcore.testing._differential import query_fields as _fields

__all__ = ["PagingContract"]


class PagingContract(ContractBase):
    """``startIndex`` and ``count`` (RFC 7644 §3.4.2.4); cursors both ways (RFC 9865)."""

    def test_start_index_and_count(self, store: Any) -> None:
        self._users(store, 5)

        def names(page: Page[Any]) -> list[str]:
            return [u.user_name for u in page.resources]

        ordered: dict[str, Any] = {"models": User}
        if self.supports_sort:
            ordered["sort_by"] = "userName"
        everything = names(store.search(Query(**ordered)))
        page = store.search(Query(**ordered, count=2))
        assert (page.total, names(page)) == (5, everything[:2])  # §3.4.2.4: count is a maximum
        page = store.search(Query(**ordered, start_index=5, count=2))
        assert (page.total, names(page)) == (5, everything[4:])
        page = store.search(Query(**ordered, start_index=0, count=1))  # §3.4.2.4: below 1 is 1
        assert (page.start_index, names(page)) == (1, everything[:1])
        page = store.search(Query(**ordered, count=-1))  # §3.4.2.4: a negative count is 0
        assert (page.total, names(page)) == (5, [])
        page = store.search(Query(**ordered, start_index=100))  # §3.4.2.4: past the end
        assert (page.total, names(page)) == (5, [])
        page = store.search(Query(models=User, filter='userName eq "none"'))  # §3.4.2: no match
        assert (page.total, list(page.resources)) == (0, [])

    def _walk(self, store: Any, query: Query) -> list[Page[Any]]:
        pages = [store.search(query)]
        while pages[-1].next_cursor is not None:
            pages.append(store.search(Query(**{**_fields(query), "cursor": pages[-1].next_cursor})))
            assert len(pages) < 1000
        return pages

    def test_cursor_pages_walk_forward_and_back(self, store: Any, shape: StoreShape) -> None:
        if not self.supports_cursors:
            pytest.skip("the store does not page with cursors")
        users = self._users(store, 7)
        for sort_by, order in (
            (None, "ascending"),
            ("userName", "descending"),
            (shape.text, "ascending"),
        ):
            if sort_by is not None and not self.supports_sort:
                continue
            query = Query(models=User, cursor="", count=3, sort_by=sort_by, sort_order=order)
            pages = self._walk(store, query)
            assert [len(p.resources) for p in pages] == [3, 3, 1]
            assert pages[0].previous_cursor is None  # RFC 9865: never on the first page
            assert all(p.total == 7 for p in pages)
            seen = [u.id for p in pages for u in p.resources]
            assert sorted(seen) == sorted(u.id for u in users)
            back = store.search(Query(**{**_fields(query), "cursor": pages[2].previous_cursor}))
            assert [u.id for u in back.resources] == [u.id for u in pages[1].resources]
            back = store.search(Query(**{**_fields(query), "cursor": back.previous_cursor}))
            assert [u.id for u in back.resources] == [u.id for u in pages[0].resources]
            assert back.previous_cursor is None
            assert back.next_cursor is not None

    def test_count_zero_with_a_cursor_gives_the_total_only(self, store: Any) -> None:
        if not self.supports_cursors:
            pytest.skip("the store does not page with cursors")
        self._users(store, 3)
        page = store.search(Query(models=User, cursor="", count=0))
        assert (page.total, list(page.resources), page.next_cursor) == (3, [], None)

    def test_bad_cursors_are_refused(self, store: Any) -> None:
        if not self.supports_cursors:
            pytest.skip("the store does not page with cursors")
        self._users(store, 4)
        query = Query(models=User, cursor="", count=2, filter="userName pr")
        token = store.search(query).next_cursor
        assert token is not None
        forged = ("A" if token[0] != "A" else "B") + token[1:]
        for bad in (forged, "garbage", token + "x", token[:-2]):
            with pytest.raises(InvalidCursor):
                store.search(Query(**{**_fields(query), "cursor": bad}))
        other = Query(models=User, cursor=token, count=2, filter='userName sw "u"')
        with pytest.raises(InvalidCursor):  # bound to its query (RFC 9865 §2)
            store.search(other)

    def test_cursor_pages_are_stable_under_concurrent_writes(self, store: Any) -> None:
        if not self.supports_cursors:
            pytest.skip("the store does not page with cursors")
        stable = self._users(store, 30)
        churn = [store.create(User(user_name=f"churn{i:02d}")) for i in range(10)]
        stop = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            i = 0
            try:
                while not stop.is_set():
                    victim = churn.pop(0)
                    store.delete(User, victim.id)
                    churn.append(store.create(User(user_name=f"new{i:04d}")))
                    i += 1
            except BaseException as exc:
                errors.append(exc)
            finally:
                self.thread_done()

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for sort_by in (None, "userName") if self.supports_sort else (None,):
                pages = self._walk(store, Query(models=User, cursor="", count=4, sort_by=sort_by))
                seen = [u.id for p in pages for u in p.resources]
                assert len(seen) == len(set(seen)), "a resource appeared twice"
                assert {u.id for u in stable} <= set(seen), "a resource was skipped"
        finally:
            stop.set()
            thread.join()
        assert errors == []
