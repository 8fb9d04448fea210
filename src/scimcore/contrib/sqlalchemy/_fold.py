"""``scimcore_fold`` in a SQLAlchemy engine's database (see :mod:`scimcore.mapping._fold`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, func
from sqlalchemy.exc import DBAPIError

from scimcore.mapping import FOLD_FUNCTION, fold_ddl, is_missing_fold, register_fold

__all__ = ["folded", "install_fold", "missing_fold", "register_on_connect"]


def folded(expression: Any) -> Any:
    """``scimcore_fold(expression)``: the expression a host's index uses.

    >>> from sqlalchemy import column
    >>> print(folded(column("username")))
    scimcore_fold(username)
    """
    return getattr(func, FOLD_FUNCTION)(expression)


def _on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if FOLD_FUNCTION not in record.info:
        register_fold(dbapi_connection)
        record.info[FOLD_FUNCTION] = True


def register_on_connect(engine: Engine) -> None:
    """Have every SQLite connection of ``engine`` (those already pooled too) know the
    function; nothing for another database."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "checkout", _on_checkout):
        event.listen(engine, "checkout", _on_checkout)


def install_fold(engine: Engine) -> None:
    """Make ``scimcore_fold`` known to ``engine``'s database, before its tables are made:
    on SQLite, registered on each connection; on PostgreSQL, created (``CREATE OR REPLACE
    FUNCTION`` in the first schema of the ``search_path``, serialized by an advisory lock).

    >>> from sqlalchemy import create_engine, select
    >>> engine = create_engine("sqlite://")
    >>> install_fold(engine)
    >>> with engine.connect() as connection:
    ...     connection.scalar(select(folded("Straße")))
    'strasse'
    """
    register_on_connect(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('scimcore_fold'))")
            connection.exec_driver_sql(fold_ddl())


def missing_fold(exc: DBAPIError) -> bool:
    """Whether a database error says the function does not exist."""
    return is_missing_fold(exc.orig)
