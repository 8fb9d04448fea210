"""The evaluator's case folding as a SQL function, ``scimcore_fold(text)``.

Theory of operation: a filter on a ``caseExact: false`` attribute compares
:func:`scimcore.filter.fold` of both sides (Unicode case folding of the NFC
form: ``STRASSE`` equals ``straße``, ``Café`` with a combining accent equals
``CAFÉ``). A store over a host's table compares ``scimcore_fold(column)`` with
the value folded in Python, so the database needs that very function:

- SQLite: :func:`scimcore.filter.fold` itself, registered on each connection
  as a deterministic function (:func:`register_fold`), so an expression index
  may use it;
- PostgreSQL: an ``IMMUTABLE`` PL/pgSQL function (:func:`fold_ddl`) generated
  from Python's Unicode tables, the ones the evaluator reads, so the two agree
  by construction: ASCII text is ``lower()`` of the ``"C"`` collation (ASCII
  only, whatever the database's locale); other text is ``normalize(…, NFC)``,
  then each character that case folding changes is looked up in a ``jsonb``
  object of the ``str.casefold`` of every such code point (case folding is per
  code point, without context, so the table is exact). Only the normalization
  is PostgreSQL's own: its Unicode version may differ from Python's for
  characters assigned in between (docs/own-table.md).
"""

from __future__ import annotations

import functools
import json
import sys
import unicodedata
from typing import TYPE_CHECKING, Any, Literal

from scimcore.filter import fold

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "FOLD_FUNCTION",
    "FoldMissing",
    "Folding",
    "fold_ddl",
    "is_missing_fold",
    "register_fold",
    "sqlite_fold",
]

#: The SQL name of the folding function, in every database.
FOLD_FUNCTION = "scimcore_fold"

#: How a store over a host's table compares case-insensitive text: ``"unicode"`` through
#: ``scimcore_fold`` (exact), ``"ascii"`` through the database's ``lower()`` (exact only
#: while the host's text is ASCII).
Folding = Literal["unicode", "ascii"]


class FoldMissing(RuntimeError):
    """The database has no ``scimcore_fold`` function: a deployment error (a ``500``),
    raised by a search that needs it, never answered without it."""

    def __init__(self) -> None:
        super().__init__(
            f"The database has no {FOLD_FUNCTION}() function, which case-insensitive filters "
            "and sorts compare with: run install_fold() of scimcore.contrib.sqlalchemy or "
            "scimcore.contrib.django once (or put scimcore.mapping.fold_ddl() in a "
            "migration); see docs/own-table.md."
        )


def is_missing_fold(error: BaseException | None) -> bool:
    """Whether a database driver's error says that ``scimcore_fold`` does not exist
    (PostgreSQL's ``undefined_function``)."""
    return getattr(error, "sqlstate", None) == "42883" and FOLD_FUNCTION in str(error)


def sqlite_fold(value: Any) -> Any:
    """The SQLite function: :func:`~scimcore.filter.fold` of text, anything else as it is.

    >>> sqlite_fold("STRASSE") == sqlite_fold("Straße"), sqlite_fold(None)
    (True, None)
    """
    return fold(value) if isinstance(value, str) else value


def register_fold(connection: sqlite3.Connection) -> None:
    """Register ``scimcore_fold`` on a SQLite connection (deterministic, so that an
    expression index may use it).

    >>> import sqlite3
    >>> connection = sqlite3.connect(":memory:")
    >>> register_fold(connection)
    >>> connection.execute("SELECT scimcore_fold('ǅUŽINA ΣΑΣ')").fetchone()
    ('ǆužina σασ',)
    """
    connection.create_function(FOLD_FUNCTION, 1, sqlite_fold, deterministic=True)


@functools.cache
def _changed() -> dict[str, str]:
    """Every code point that case folding changes, and its case fold."""
    found = {}
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue  # surrogates: no database keeps them as text
        char = chr(point)
        folded = char.casefold()
        if folded != char:
            found[char] = folded
    return found


def _ranges(chars: list[str]) -> str:
    """A regular-expression bracket of ``chars`` with ``\\u``/``\\U`` escapes (ASCII text)."""

    def escape(char: str) -> str:
        point = ord(char)
        return f"\\u{point:04X}" if point <= 0xFFFF else f"\\U{point:08X}"

    points = sorted(ord(char) for char in chars)
    parts = []
    start = end = points[0]
    for point in [*points[1:], -1]:
        if point == end + 1:
            end = point
            continue
        first, last = escape(chr(start)), escape(chr(end))
        parts.append(first if start == end else f"{first}-{last}")
        start = end = point
    return f"[{''.join(parts)}]"


def fold_ddl(name: str = FOLD_FUNCTION) -> str:
    """PostgreSQL's ``CREATE OR REPLACE FUNCTION`` of ``scimcore_fold(text)``, from this
    Python's Unicode tables (its text is ASCII; PostgreSQL 13 or later, a UTF8 database).

    An index over the function keeps the folds of the Unicode version that made it:
    after a Python upgrade with a new Unicode version, run it again and ``REINDEX``.

    >>> ddl = fold_ddl()
    >>> ddl.splitlines()[0]
    'CREATE OR REPLACE FUNCTION scimcore_fold(value text) RETURNS text'
    >>> ddl.isascii()
    True
    """
    changed = _changed()
    table = json.dumps(changed, ensure_ascii=True, separators=(",", ":"))
    return f"""CREATE OR REPLACE FUNCTION {name}(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fold$
-- scimcore.filter.fold: case folding of the NFC form, Unicode {unicodedata.unidata_version}
DECLARE
  folded text := '';
  ch text;
BEGIN
  IF octet_length(value) = char_length(value) THEN
    RETURN lower(value COLLATE "C");
  END IF;
  value := normalize(value COLLATE "C", NFC);
  IF value !~ $re${_ranges(list(changed))}$re$ THEN
    RETURN value;
  END IF;
  FOREACH ch IN ARRAY string_to_array(value, NULL) LOOP
    folded := folded || coalesce($map${table}$map$::jsonb ->> ch, ch);
  END LOOP;
  RETURN folded;
END
$fold$"""
