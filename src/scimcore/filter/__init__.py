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
from scimcore.filter._evaluate import ALLOWED_OPERATORS, compile_filter, compile_value_filter, fold
from scimcore.filter._parser import MAX_DEPTH, MAX_LENGTH, grammar, parse_filter, parse_path

__all__ = [
    "ALLOWED_OPERATORS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "OPERATORS",
    "And",
    "AttrPath",
    "Compare",
    "Filter",
    "Not",
    "Or",
    "PatchPath",
    "Present",
    "Value",
    "ValuePath",
    "compile_filter",
    "compile_value_filter",
    "fold",
    "grammar",
    "parse_filter",
    "parse_path",
]


def __dir__() -> list[str]:
    return __all__
