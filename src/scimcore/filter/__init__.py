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

__all__ = [
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
]


def __dir__() -> list[str]:
    return __all__
