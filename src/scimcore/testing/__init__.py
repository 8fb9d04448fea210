"""StoreContract: the pytest suite that proves a store keeps the storage protocol.

A host with its own store (Django ORM, DynamoDB, LDAP…) subclasses
:class:`StoreContract` in its test suite and gives a ``store`` fixture that
returns a new, empty store keeping :class:`~scimcore.models.User` (with the
enterprise extension) and :class:`~scimcore.models.Group`::

    import pytest
    from scimcore.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            store = MyStore(tmp_path / "db")
            yield store
            store.close()

The suite checks CRUD, copies, versions and ``expected_version``, ``update``
(with a ``PatchResult`` or a function; one that changes nothing writes
nothing), uniqueness,
threads writing at once, ``startIndex``/``count`` paging, RFC 9865 cursors
(stable while other threads write), sorting, searches over several resource
types, and *differential search*: for a long list of filters × sorts over
resources full of traps (mixed case, missing and empty values, ``%``, ``_``,
quotes, backslashes, Unicode that folds, multi-valued attributes), the store
returns exactly what the evaluator (:func:`scimcore.filter.compile_filter`)
selects; then a Hypothesis run does the same with generated filters and
resources. Class attributes switch parts off for a store that does not offer
them (``supports_cursors``, ``supports_sort``) and size the runs
(``hypothesis_examples``, ``threads``).

A host with an *async* store runs the same suite on ``BlockingStore(its_store)``.

pytest and Hypothesis must be installed; importing this module imports pytest.

The parts: :mod:`._contract` (:class:`StoreContract`, made of a class per
area: :mod:`._crud`, :mod:`._updates`, :mod:`._uniqueness`, :mod:`._threads`,
:mod:`._paging`, :mod:`._searching`, on the settings and fixtures of
:mod:`._base`); :mod:`._data` (the trap resources, filters and sorts);
:mod:`._differential` (a store's search against the evaluator's);
:mod:`._strategies` (Hypothesis); :mod:`._blocking` (:class:`BlockingStore`).
"""

from scimcore.testing._blocking import BlockingStore
from scimcore.testing._contract import StoreContract
from scimcore.testing._data import DIFFERENTIAL_FILTERS, DIFFERENTIAL_SORTS, TRAP_GROUPS, TRAP_USERS
from scimcore.testing._data import DIFFERENTIAL_ROOT_FILTERS as DIFFERENTIAL_ROOT_FILTERS
from scimcore.testing._differential import expected_order_key
from scimcore.testing._strategies import filters_strategy, users_strategy

__all__ = [
    "DIFFERENTIAL_FILTERS",
    "DIFFERENTIAL_SORTS",
    "TRAP_GROUPS",
    "TRAP_USERS",
    "BlockingStore",
    "StoreContract",
    "expected_order_key",
    "filters_strategy",
    "users_strategy",
]
