"""ETags and the conditional headers (RFC 7644 §3.14, RFC 9110 §13).

``meta.version`` is the ETag. A store's versions are weak validators (the
same resource may be written in more than one byte-for-byte form), so a bare
version is sent as ``W/"…"``. ``If-Match`` and ``If-None-Match`` are compared
weakly (RFC 9110 §8.8.3.2: opaque tags equal, ``W/`` ignored), which RFC 9110
reserves to ``If-None-Match`` but which every SCIM client needs for
``If-Match`` too, since SCIM servers only have weak tags; ``*`` matches any
existing resource.
"""

from __future__ import annotations

__all__ = ["etag", "tag_matches"]


def etag(version: str | None) -> str | None:
    """The ETag for a stored version: weak, quoted.

    >>> etag("3"), etag('W/"3"'), etag('"abc"'), etag(None)
    ('W/"3"', 'W/"3"', '"abc"', None)
    """
    if version is None or version == "":
        return None
    if version.startswith(('W/"', '"')) and version.endswith('"') and len(version) > 1:
        return version
    return f'W/"{version}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    if tag[:2] in ("W/", "w/"):
        tag = tag[2:].strip()
    if len(tag) >= 2 and tag[0] == '"' and tag[-1] == '"':
        tag = tag[1:-1]
    return tag


def tag_matches(header: str, current: str | None) -> bool:
    """Whether a conditional header (a list of tags, or ``*``) names ``current``.

    >>> tag_matches('W/"1", "3"', 'W/"3"'), tag_matches("*", 'W/"9"'), tag_matches('"2"', 'W/"3"')
    (True, True, False)
    >>> tag_matches("*", None)
    False
    """
    if current is None:
        return False
    if header.strip() == "*":
        return True
    wanted = _opaque(current)
    return any(_opaque(part) == wanted for part in header.split(",") if part.strip())
