"""The PostgreSQL dialect of the filter compiler: ``jsonb`` operators, code-point text order.

Theory of operation: the compiler (:mod:`._compiler`) writes the same SQL for
every database around the hooks of :class:`~._dialect.Dialect`; this module
gives PostgreSQL's fragments, with exactly the evaluator's semantics:

- values are read from the search document (``jsonb``) with ``#>>`` (text) and
  ``#>`` (``jsonb``, cast to ``numeric`` or ``boolean``); a missing path is NULL;
- every text value is compared under ``COLLATE "C"``: byte order of UTF-8, which
  is Unicode code-point order, Python's ``str`` order (the database's default
  collation is linguistic and would disagree with the evaluator);
- ``co``/``sw``/``ew`` are ``strpos``, ``starts_with`` and ``right``: exact,
  with no ``LIKE`` wildcard to escape;
- the elements of an array (or the members of an object) come from
  ``jsonb_array_elements`` / ``jsonb_each`` as SQLite's ``json_each`` gives them:
  a ``value`` column holding the string itself for a JSON string and JSON text
  otherwise, a ``type`` column with SQLite's names (``text``, ``array``, ``null``…),
  and ``ord``, the position.

JSON paths are ``text[]`` values (``{emails,value}``). The store binds them
client-side, so PostgreSQL sees constants and matches its expression indexes.

>>> dialect = PostgresDialect()
>>> dialect.extract("r.sdoc", "%(p0)s", "text")
'((r.sdoc #>> %(p0)s) COLLATE "C")'
>>> dialect.json_path(("name", "familyname"))
['name', 'familyname']
"""

from __future__ import annotations

from scimcore.stores.sql._dialect import Kind

__all__ = ["PostgresDialect"]

#: SQLite's ``json_each`` type names, from ``jsonb_typeof``.
_TYPE = (
    "CASE jsonb_typeof({v}) WHEN 'string' THEN 'text' WHEN 'number' THEN 'real' "
    "WHEN 'boolean' THEN ({v} #>> '{{}}') ELSE jsonb_typeof({v}) END"
)
#: The ``value`` column: the string itself for a JSON string, JSON text otherwise.
_VALUE = "(CASE WHEN jsonb_typeof({v}) = 'string' THEN {v} #>> '{{}}' ELSE {v}::text END)"


class PostgresDialect:
    """PostgreSQL 12+ (``jsonb``, ``starts_with``), for :class:`~scimcore.stores.PostgresStore`.

    ``document`` names the ``jsonb`` column (or expression) of the search
    document; any other document the compiler passes (an element, which this
    dialect lists as text) is cast back to ``jsonb``.

    >>> PostgresDialect().starts_with("x", "%(p1)s")
    'starts_with(x, %(p1)s)'
    """

    #: The constant false (the compiler's default, ``0``, is an integer here).
    false = "false"

    def __init__(self, document: str = "r.sdoc") -> None:
        self.document = document

    def _json(self, document: str) -> str:
        if document == self.document:
            return document
        return f"({document})::jsonb"

    def param(self, name: str) -> str:
        """psycopg's named placeholders, ``%(name)s``."""
        return f"%({name})s"

    def json_path(self, keys: tuple[str, ...]) -> object:
        """A ``text[]`` of object keys; any key can be written (the driver quotes it)."""
        for key in keys:
            if "\x00" in key:
                raise ValueError(f"a JSON key with U+0000: {key!r}")
        return list(keys)

    def extract(self, document: str, path: str, kind: Kind) -> str:
        """``#>>`` for text (code-point order), ``#>`` cast for numbers and booleans."""
        source = self._json(document)
        if kind == "text":
            return f'(({source} #>> {path}) COLLATE "C")'
        if kind == "number":
            return f"(({source} #> {path})::numeric)"
        if kind == "boolean":
            return f"(({source} #> {path})::boolean)"
        return f"({source} #> {path})"

    def is_true(self, value: str) -> str:
        """``IS TRUE``: false for false and NULL."""
        return f"({value} IS TRUE)"

    def elements(self, document: str, path: str | None, alias: str) -> str:
        """The elements of an array, or the members of an object, as ``json_each`` lists them."""
        source = self._json(document)
        target = source if path is None else f"({source} #> {path})"
        v = f"{alias}_x.v"
        return (
            f'(SELECT {_VALUE.format(v=v)} COLLATE "C" AS value, {_TYPE.format(v=v)} AS type, '
            f"{alias}_x.ord AS ord FROM (SELECT {target} AS j) AS {alias}_s, LATERAL ("
            f"SELECT a.v, a.ord FROM jsonb_array_elements(CASE WHEN jsonb_typeof({alias}_s.j) "
            f"= 'array' THEN {alias}_s.j END) WITH ORDINALITY AS a(v, ord) UNION ALL "
            f"SELECT o.v, 0 FROM jsonb_each(CASE WHEN jsonb_typeof({alias}_s.j) = 'object' "
            f"THEN {alias}_s.j END) AS o(k, v)) AS {alias}_x) AS {alias}"
        )

    def element(self, alias: str, kind: Kind) -> str:
        """The element itself, typed as :meth:`extract` would give it."""
        if kind == "text":
            return f"{alias}.value"
        if kind == "number":
            return f"({alias}.value)::numeric"
        if kind == "boolean":
            return f"({alias}.value)::boolean"
        return f"({alias}.value)::jsonb"

    def equals(self, value: str, needle: str) -> str:
        """``=`` guarded by ``IS NOT NULL`` (``IS NOT DISTINCT FROM`` would not use an index)."""
        return f"({value} IS NOT NULL AND {value} = {needle})"

    def contains(self, text: str, needle: str) -> str:
        """``strpos`` compares code points exactly (``""`` is found at 1)."""
        return f"(strpos({text}, {needle}) > 0)"

    def starts_with(self, text: str, needle: str) -> str:
        """``starts_with`` (PostgreSQL 11+)."""
        return f"starts_with({text}, {needle})"

    def ends_with(self, text: str, needle: str, length: str) -> str:
        """The last ``length`` characters; ``right(x, 0)`` is ``""``."""
        return f"(right({text}, {length}) = {needle})"

    def array_length(self, json_text: str) -> str:
        """``jsonb_array_length`` of JSON text."""
        return f"jsonb_array_length(({json_text})::jsonb)"
