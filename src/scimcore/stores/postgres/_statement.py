"""What the PostgreSQL store's operations are made of: statements, yielded one at a time.

Every operation is a generator (:data:`Ops`) that yields a :class:`Statement`
and receives its rows (``[]`` for a statement that returns none), in the style
of :mod:`scimcore._drive`: the same operation runs on a sync connection
(:class:`~scimcore.stores.PostgresStore`) and an async one
(:class:`~scimcore.stores.AsyncPostgresStore`), and a test can run it by hand.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import attrs

__all__ = ["Ops", "Statement"]

T = TypeVar("T")


@attrs.frozen
class Statement:
    """One statement an operation asks its driver to run; the driver sends back the rows."""

    text: str
    params: Any = None
    #: Bind ``params`` on the server (psycopg's ``Cursor``), so that a statement run
    #: often is prepared and its plan kept; otherwise they are bound client-side
    #: (``ClientCursor``) and the server plans constants, which DDL and statements
    #: that must match partial or expression indexes by their parameters need.
    server: bool = False


#: An operation: yields statements, receives their rows, returns its result.
Ops = Generator[Statement, list[tuple[Any, ...]], T]
