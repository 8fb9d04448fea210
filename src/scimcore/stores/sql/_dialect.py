"""The SQL dialect seam: the few fragments that differ between databases.

The compiler (:mod:`._compiler`) writes portable SQL around these hooks. A
dialect never sees a value: every fragment it returns takes its operands as
SQL expressions (columns or placeholders), so values stay bound parameters.

``kind`` tells the dialect what an extracted JSON value is, from the schema:
``"text"`` (string, reference, binary, dateTime as UTC text), ``"number"``
(integer, decimal), ``"boolean"`` or ``"json"`` (an object or array). SQLite's
``json_extract`` returns native SQL values for all of them; a PostgreSQL
dialect casts ``jsonb`` (``(doc #>> path)::numeric``, ``::boolean``).

A dialect may also set ``false``, the constant false (default ``0``; PostgreSQL
wants ``false``).
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["Dialect", "Kind", "SQLiteDialect"]

Kind = Literal["text", "number", "boolean", "json"]


class Dialect(Protocol):
    """The hooks a database gives the filter compiler."""

    #: The constant false: ``0`` in SQLite, ``false`` in PostgreSQL (which refuses ``0``).
    false: str

    def param(self, name: str) -> str:
        """The placeholder of the named parameter (``:p0`` for sqlite3, ``%(p0)s`` for psycopg)."""
        ...

    def json_path(self, keys: tuple[str, ...]) -> object:
        """The bound value naming a path of object keys (SQLite ``$."a"."b"``)."""
        ...

    def extract(self, document: str, path: str, kind: Kind) -> str:
        """The value at JSON ``path`` (an SQL expression) of ``document``; NULL if absent."""
        ...

    def is_true(self, value: str) -> str:
        """True when an extracted boolean is true; false for false and NULL."""
        ...

    def elements(self, document: str, path: str | None, alias: str) -> str:
        """A FROM item listing the elements (or members) of a JSON array (object) at ``path``.

        Rows have ``{alias}.value`` (a scalar, or JSON text for an object) and
        ``{alias}.type`` (``text``, ``integer``, ``real``, ``true``, ``false``,
        ``array``, ``object``) and ``{alias}.ord`` (the element's position).
        """
        ...

    def element(self, alias: str, kind: Kind) -> str:
        """The element itself, as ``extract`` would give it."""
        ...

    def equals(self, value: str, needle: str) -> str:
        """True when ``value`` equals ``needle`` (never null), false when ``value`` is null.

        Optional: a dialect without it gets ``(value IS NOT NULL AND value = needle)``.
        """
        ...

    def contains(self, text: str, needle: str) -> str:
        """True when ``needle`` occurs in ``text`` (both non-null text, binary comparison)."""
        ...

    def starts_with(self, text: str, needle: str) -> str:
        """True when ``text`` starts with ``needle``."""
        ...

    def ends_with(self, text: str, needle: str, length: str) -> str:
        """True when ``text`` ends with ``needle``, whose length (code points) is ``length``."""
        ...

    def array_length(self, json_text: str) -> str:
        """The number of elements of a JSON array given as JSON text."""
        ...


class SQLiteDialect:
    """SQLite 3.38+: JSON1 functions, ``instr``/``substr`` (no ``LIKE`` and its pitfalls).

    >>> SQLiteDialect().starts_with("x", ":p0")
    '(instr(x, :p0) = 1)'
    """

    false = "0"

    def param(self, name: str) -> str:
        """Named parameters, ``:name``."""
        return f":{name}"

    def json_path(self, keys: tuple[str, ...]) -> object:
        """``$."a"."b"``; a key holding ``"`` or ``\\`` cannot be written and is refused."""
        for key in keys:
            if '"' in key or "\\" in key:
                raise ValueError(f"a JSON key with a quote or backslash: {key!r}")
        return "$" + "".join(f'."{key}"' for key in keys)

    def extract(self, document: str, path: str, kind: Kind) -> str:
        """``json_extract``: booleans come back as 1 and 0, objects as JSON text."""
        return f"json_extract({document}, {path})"

    def is_true(self, value: str) -> str:
        """A JSON ``true`` extracts as the integer 1."""
        return f"({value} IS 1)"

    def elements(self, document: str, path: str | None, alias: str) -> str:
        """``json_each``; its ``key`` is the position."""
        source = document if path is None else f"{document}, {path}"
        return f"(SELECT value, type, key AS ord FROM json_each({source})) AS {alias}"

    def element(self, alias: str, kind: Kind) -> str:
        """The ``value`` column of ``json_each``."""
        return f"{alias}.value"

    def equals(self, value: str, needle: str) -> str:
        """``IS``: ``=`` that is false, not null, against a null; one test a row, not two."""
        return f"({value} IS {needle})"

    def contains(self, text: str, needle: str) -> str:
        """``instr`` compares code points exactly, with no wildcard to escape."""
        return f"(instr({text}, {needle}) > 0)"

    def starts_with(self, text: str, needle: str) -> str:
        """The first occurrence is at position 1."""
        return f"(instr({text}, {needle}) = 1)"

    def ends_with(self, text: str, needle: str, length: str) -> str:
        """``substr`` from the right; ``substr(x, -0)`` is all of ``x``, so ``""`` is special.

        The needle's length comes from Python: SQLite's ``length()`` stops at U+0000.
        """
        return (
            f"({length} = 0 OR (length({text}) >= {length} "
            f"AND substr({text}, -{length}) = {needle}))"
        )

    def array_length(self, json_text: str) -> str:
        """``json_array_length``."""
        return f"json_array_length({json_text})"
