"""``User.groups`` by searching, for a store without :class:`SupportsMemberships`.

The search is written once, as a generator that yields the queries it needs and
receives their pages, so that the sync helper :func:`search_memberships` and the
service's drivers (sync and async) run the same steps.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from scimcore._drive import drive
from scimcore.filter import AttrPath, Compare, Filter, Or
from scimcore.policy import Policy
from scimcore.storage._query import Page, Query

__all__ = ["Memberships", "membership_searches", "search_memberships"]

#: Member id → ``[(group id, group displayName)]``, in the groups' creation order.
Memberships = dict[str, list[tuple[str, str | None]]]


def membership_searches(
    group_model: type[Any], member_ids: Sequence[str], policy: Policy | None = None
) -> Generator[Query, Page[Any], Memberships]:
    """The groups listing each id, by searching ``members.value eq "<id>"`` (50 ids a query).

    For one id every group found lists it, so only ``id`` and ``displayName``
    are asked for (a store may leave a 100,000-member list unread); for several,
    each group's members are matched to the ids.
    """
    found: Memberships = {member_id: [] for member_id in member_ids}
    ids = list(found)
    single = len(ids) == 1
    for start in range(0, len(ids), 50):
        terms: list[Filter] = [
            Compare(AttrPath(None, "members", "value"), "eq", member_id)
            for member_id in ids[start : start + 50]
        ]
        page = yield Query(
            models=(group_model,),
            filter=terms[0] if single else Or(tuple(terms)),
            attributes=("id", "displayName") if single else (),
            policy=policy or Policy(),
        )
        for group in page.resources:
            listed = ids if single else [m.value for m in group.members if m.value in found]
            for member_id in listed:
                groups = found[member_id]
                if all(group_id != group.id for group_id, _ in groups):
                    groups.append((group.id, group.display_name))
    return found


def search_memberships(
    store: Any, group_model: type[Any], member_ids: Sequence[str]
) -> Memberships:
    """:func:`membership_searches` run against a sync store's ``search``."""
    return drive(membership_searches(group_model, member_ids), store.search)
