"""The comparable form of SCIM values, shared by every store.

Theory of operation: a store compares, sorts and indexes values in one
*comparable form*, computed from the value and its attribute's
characteristics (never restated by hand):

- a string, reference or binary whose attribute is ``caseExact: false`` becomes the
  Unicode case fold of its NFC form (:func:`fold`), the evaluator's reading of
  case-insensitive;
- a dateTime becomes fixed-width UTC text (:func:`utc_text`), so that text order
  is chronological order;
- booleans, numbers and case-exact strings stay as they are.

The SQL stores keep a *search document* made of comparable values next to
each resource, so that a database compares them with plain ``=`` and ``<``.
"""

from __future__ import annotations

import datetime
from typing import Any

from scimcore.errors import InvalidFilter
from scimcore.filter import fold  # one case folding, shared with the evaluator
from scimcore.filter._evaluate import _datetime as read_datetime
from scimcore.schema import TEXT_TYPES, Attribute, AttributeType

__all__ = ["comparable", "fold", "utc_text"]


def utc_text(value: datetime.datetime | str) -> str:
    """A dateTime as fixed-width UTC text, whose text order is chronological.

    A string is read as xsd:dateTime; one without an offset is taken as UTC.

    >>> utc_text("2011-05-13T05:00:00+02:00")
    '2011-05-13T03:00:00.000000Z'
    >>> utc_text("2011-05-13T04:42:34Z") > utc_text("2011-05-13T05:00:00+02:00")
    True
    """
    if isinstance(value, str):
        parsed = read_datetime(value)  # the evaluator's reading, so SQL and Python agree
        if parsed is None:
            raise InvalidFilter(f"{value!r} is not an xsd:dateTime.")
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    value = value.astimezone(datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ").rjust(27, "0")


def comparable(value: Any, attribute: Attribute) -> Any:
    """The comparable form of one simple value of ``attribute`` (see the module docstring).

    >>> from scimcore.schema import Attribute
    >>> comparable("BJensen", Attribute("userName"))
    'bjensen'
    >>> comparable("ABC", Attribute("externalId", case_exact=True))
    'ABC'
    """
    if isinstance(value, str):
        if attribute.type is AttributeType.DATETIME:
            try:
                return utc_text(value)
            except InvalidFilter:
                return value
        if attribute.type in TEXT_TYPES and not attribute.case_exact:
            return fold(value)
        return value
    if isinstance(value, datetime.datetime):
        return utc_text(value)
    return value
