"""StoreContract: the store contract, assembled from its parts."""

from __future__ import annotations

from scimcore.testing._crud import CrudContract
from scimcore.testing._paging import PagingContract
from scimcore.testing._searching import SearchContract
from scimcore.testing._threads import ThreadsContract
from scimcore.testing._uniqueness import UniquenessContract
from scimcore.testing._updates import MemberUpdateContract, UpdateContract

__all__ = ["StoreContract"]


class StoreContract(
    CrudContract,
    UpdateContract,
    MemberUpdateContract,
    UniquenessContract,
    ThreadsContract,
    PagingContract,
    SearchContract,
):
    """The contract every :class:`~scimcore.storage.ResourceStore` passes; subclass it.

    Give a ``store`` fixture returning a new, empty store (see :mod:`scimcore.testing`).
    Its parts: :class:`~scimcore.testing._crud.CrudContract` (create, get,
    replace, delete, versions), :class:`~scimcore.testing._updates.UpdateContract`
    (``update`` with a PatchResult or a function;
    :class:`~scimcore.testing._updates.MemberUpdateContract`, ``update_members``),
    :class:`~scimcore.testing._uniqueness.UniquenessContract`,
    :class:`~scimcore.testing._threads.ThreadsContract`,
    :class:`~scimcore.testing._paging.PagingContract` (``startIndex``/``count``,
    cursors) and :class:`~scimcore.testing._searching.SearchContract` (sorts,
    filters, the differential search).
    """
