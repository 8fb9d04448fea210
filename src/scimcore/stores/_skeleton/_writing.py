"""What a store does to a resource it writes: its ``id`` and ``meta``, and the JSON text it keeps.

A SQL store keeps each resource's wire document and search document as JSON
text. Two kinds of string cannot be kept there: U+0000, which SQLite's text
functions stop at and PostgreSQL's ``jsonb`` refuses, and a lone surrogate,
which is not Unicode and has no UTF-8 form. :func:`storable_json` refuses both,
in object keys as in values.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, TypeVar

import attrs

from scimcore._json import response_bytes
from scimcore.errors import InvalidValue
from scimcore.storage._query import resource_type_of

__all__ = ["has_nul", "new_id", "stamp", "storable_json"]

R = TypeVar("R")


def new_id() -> str:
    """A new resource ``id``: a random UUID."""
    return str(uuid.uuid4())


def stamp(
    resource: R,
    *,
    resource_id: str,
    version: str,
    now: datetime.datetime,
    created: datetime.datetime | None = None,
) -> R:
    """A copy of ``resource`` with its ``id`` and the ``meta`` a store sets.

    >>> import datetime
    >>> from scimcore.models import User
    >>> now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    >>> user = stamp(User(user_name="bjensen"), resource_id="1", version='W/"1"', now=now)
    >>> user.id, user.meta.resource_type, user.meta.version, user.meta.created == now
    ('1', 'User', 'W/"1"', True)
    """
    from scimcore.models import Meta

    meta = Meta(
        resource_type=resource_type_of(type(resource)).name,
        created=created if created is not None else now,
        last_modified=now,
        location=None,
        version=version,
    )
    return attrs.evolve(resource, id=resource_id, meta=meta)  # type: ignore[misc]


def has_nul(value: Any) -> bool:
    """Whether a JSON value holds U+0000 in a string: a value or an object key.

    >>> has_nul({"a": ["b", "c\\x00"]}), has_nul({"a\\x00": 1}), has_nul({"a": 1})
    (True, True, False)
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def storable_json(document: Any, store: str) -> str:
    """The JSON text of a document, refused (:class:`~scimcore.errors.InvalidValue`) when a
    key or value holds U+0000 or a lone surrogate, which ``store`` cannot keep.

    >>> storable_json({"userName": "bjensen"}, "SQLiteStore")
    '{"userName":"bjensen"}'
    >>> storable_json({"userName": "a\\x00b"}, "SQLiteStore")
    Traceback (most recent call last):
    scimcore.errors.InvalidValue: SQLiteStore cannot store U+0000 in a string.
    >>> storable_json({"userName": "\\ud800"}, "SQLiteStore")
    Traceback (most recent call last):
    scimcore.errors.InvalidValue: A string holds a lone surrogate, which is not valid Unicode.
    """
    text: str | None
    try:
        # The responses' encoder (orjson when installed: a twentieth of the time) gives
        # UTF-8, which a lone surrogate cannot be.
        text = response_bytes(document).decode("utf-8")
    except UnicodeEncodeError:
        text = None
    # JSON text spells U+0000 as \u0000: only then is the document walked (the text
    # may also hold a backslash followed by "u0000", which is no U+0000).
    if (text is None or "\\u0000" in text) and has_nul(document):
        raise InvalidValue(f"{store} cannot store U+0000 in a string.")
    if text is None:
        raise InvalidValue("A string holds a lone surrogate, which is not valid Unicode.")
    return text
