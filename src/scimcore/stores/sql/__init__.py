"""Filters to SQL: the compiler, the dialect seam and the search document.

:class:`FilterCompiler` turns a filter AST into a ``WHERE`` fragment over a
resource's search document (:func:`search_document`), with every value bound
as a parameter. :class:`Dialect` holds what differs between databases;
:class:`SQLiteDialect` is the one shipped here.

>>> from scimcore.filter import AttrPath, Compare
>>> from scimcore.schema import core_schemas, USER_RESOURCE_TYPE
>>> compile_where(Compare(AttrPath(None, "userName", None), "eq", "BJensen"),
...               USER_RESOURCE_TYPE, core_schemas()).params["p1"]
'bjensen'
"""

from scimcore.stores.sql._compiler import (
    FilterCompiler,
    Fragment,
    compile_where,
    kind_of,
    lookup_key,
)
from scimcore.stores.sql._dialect import Dialect, Kind, SQLiteDialect
from scimcore.stores.sql._document import document_keys, search_document, search_values
from scimcore.stores.sql._postgres import PostgresDialect

__all__ = [
    "Dialect",
    "FilterCompiler",
    "Fragment",
    "Kind",
    "PostgresDialect",
    "SQLiteDialect",
    "compile_where",
    "document_keys",
    "kind_of",
    "lookup_key",
    "search_document",
    "search_values",
]
