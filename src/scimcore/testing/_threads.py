"""Threads writing at once: no lost update, no duplicate, every version new."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from scimcore.errors import PreconditionFailed, Uniqueness
from scimcore.models import User
from scimcore.storage import Query, update
from scimcore.testing._base import ContractBase, StoreShape

__all__ = ["ThreadsContract"]


class ThreadsContract(ContractBase):
    """Threads writing at once lose no update and make no duplicate."""

    def _run(self, work: Callable[[int], None]) -> list[BaseException]:
        errors: list[BaseException] = []
        barrier = threading.Barrier(self.threads)

        def run(n: int) -> None:
            try:
                barrier.wait()
                work(n)
            except BaseException as exc:
                errors.append(exc)
            finally:
                self.thread_done()

        workers = [threading.Thread(target=run, args=(n,)) for n in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return errors

    def test_threads_creating_at_once(self, store: Any) -> None:
        created: list[Any] = []

        def work(n: int) -> None:
            for i in range(10):
                created.append(store.create(User(user_name=f"user-{n}-{i}")))

        assert self._run(work) == []
        assert store.search(Query(models=User, count=0)).total == self.threads * 10
        assert len({u.id for u in created}) == self.threads * 10
        assert all(u.meta.version for u in created)  # a version is per resource (§3.14)

    def test_threads_racing_for_one_user_name(self, store: Any) -> None:
        winners: list[Any] = []

        def work(n: int) -> None:
            with contextlib.suppress(Uniqueness):
                winners.append(store.create(User(user_name="Contested" if n % 2 else "contested")))

        assert self._run(work) == []
        assert len(winners) == 1
        assert store.search(Query(models=User)).total == 1

    def test_expected_version_prevents_lost_updates(self, store: Any, shape: StoreShape) -> None:
        text = shape.text_attribute()
        user = store.create(shape.user("counter", "0"))

        def work(n: int) -> None:
            for _ in range(5):
                while True:
                    current = store.get(User, user.id)
                    setattr(current, text, str(int(getattr(current, text)) + 1))
                    try:
                        store.replace(current, expected_version=current.meta.version)
                        break
                    except PreconditionFailed:
                        continue

        assert self._run(work) == []
        assert getattr(store.get(User, user.id), text) == str(self.threads * 5)

    def test_update_never_loses_an_update(self, store: Any, shape: StoreShape) -> None:
        """``scimcore.storage.update``: native when the store has it, else get + replace."""
        text = shape.text_attribute()
        user = store.create(shape.user("counter", "0"))

        def bump(current: Any) -> Any:
            setattr(current, text, str(int(getattr(current, text)) + 1))
            return current

        def work(n: int) -> None:
            for _ in range(5):
                while True:
                    try:
                        update(store, User, user.id, bump)
                        break
                    except PreconditionFailed:
                        continue

        assert self._run(work) == []
        assert getattr(store.get(User, user.id), text) == str(self.threads * 5)
