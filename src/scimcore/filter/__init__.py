"""SCIM filters and PATCH paths: grammar, AST, canonical text and evaluation.

>>> from scimcore.filter import AttrPath, Compare
>>> str(Compare(AttrPath(None, "userName", None), "eq", "bjensen"))
'userName eq "bjensen"'
"""

from scimcore.filter._ast import (
    OPERATORS,
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    PatchPath,
    Present,
    Value,
    ValuePath,
)
from scimcore.filter._builder import AttrBuilder, all_of, any_of, attr, not_
from scimcore.filter._cost import FANOUT, filter_cost
from scimcore.filter._evaluate import (
    ALLOWED_OPERATORS,
    check_filterable,
    compile_filter,
    compile_value_filter,
    fold,
)
from scimcore.filter._parser import MAX_DEPTH, MAX_LENGTH, grammar, parse_filter, parse_path
from scimcore.filter._visit import Rewriter, Transformer, walk

__all__ = [
    "ALLOWED_OPERATORS",
    "FANOUT",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "OPERATORS",
    "And",
    "AttrBuilder",
    "AttrPath",
    "Compare",
    "Filter",
    "Not",
    "Or",
    "PatchPath",
    "Present",
    "Rewriter",
    "Transformer",
    "Value",
    "ValuePath",
    "all_of",
    "any_of",
    "attr",
    "check_filterable",
    "compile_filter",
    "compile_value_filter",
    "filter_cost",
    "fold",
    "grammar",
    "not_",
    "parse_filter",
    "parse_path",
    "walk",
]


def __dir__() -> list[str]:
    return __all__
