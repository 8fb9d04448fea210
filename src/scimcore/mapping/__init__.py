"""SCIM attributes on a host's own table: :class:`AttributeMap`, and filters planned onto it.

A host that already keeps users (a SQLAlchemy class, a Django model) says
which SCIM attribute lives in which of its columns; the map then turns a row
into a resource and back, and a filter or a ``sortBy`` into a host-neutral
:class:`Plan` over column names that a backend (:mod:`scimcore.contrib.sqlalchemy`)
renders as its own query. Case-insensitive text is compared through the
database function ``scimcore_fold`` (:func:`fold_ddl`, :func:`register_fold`),
the evaluator's :func:`~scimcore.filter.fold` in SQL.

>>> from scimcore.models import User
>>> users = AttributeMap(User, {"userName": "username", 'emails[type eq "work"].value': "email"})
>>> print(users.plan('userName eq "BJensen" or emails.value co "@example"'))
any(username ieq 'bjensen', all(email filled, email ico '@example'))
"""

from scimcore.mapping._fold import (
    FOLD_FUNCTION,
    Folding,
    FoldMissing,
    fold_ddl,
    is_missing_fold,
    register_fold,
)
from scimcore.mapping._map import AttributeMap, Column, Computed
from scimcore.mapping._plan import (
    All,
    Any_,
    Const,
    Filled,
    Negate,
    Plan,
    SortPlan,
    Test,
)

__all__ = [
    "FOLD_FUNCTION",
    "All",
    "Any_",
    "AttributeMap",
    "Column",
    "Computed",
    "Const",
    "Filled",
    "FoldMissing",
    "Folding",
    "Negate",
    "Plan",
    "SortPlan",
    "Test",
    "fold_ddl",
    "is_missing_fold",
    "register_fold",
]
