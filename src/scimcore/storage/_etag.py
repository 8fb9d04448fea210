"""ETags and the conditional headers (RFC 7644 §3.14, RFC 9110 §8.8.3, §13): the one comparator.

``meta.version`` is the ETag. A store's versions are weak validators (the
same resource may be written in more than one byte-for-byte form), so a bare
version is sent as ``W/"…"``. ``If-Match`` and ``If-None-Match`` are compared
weakly (RFC 9110 §8.8.3.2: opaque tags equal, ``W/`` ignored), which RFC 9110
reserves to ``If-None-Match`` but which every SCIM client needs for
``If-Match`` too, since SCIM servers only have weak tags; ``*`` matches any
existing resource.

A header is a list (``W/"1", "2"``); a tag's opaque part may itself hold a
comma (``"a,b"``), so the list is read tag by tag, not split on commas. The
service and every store compare through :func:`tag_matches`, and a store's
``expected_version`` is the header text as the client sent it.
"""

from __future__ import annotations

import re

__all__ = ["etag", "parse_tags", "tag_matches", "versions_match"]

# One entity-tag (RFC 9110 §8.8.3), leniently: an optional W/ (any case), then a
# quoted opaque part, or, for clients that send bare versions, a run up to a comma.
_TAG = re.compile(r'\s*(?:[Ww]/\s*)?(?:"([^"]*)"|([^,"\s][^,]*?))\s*(?:,|$)')


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


def parse_tags(header: str) -> list[str]:
    """The opaque parts of the tags a conditional header lists, in order.

    >>> parse_tags('W/"1", "a,b", 3')
    ['1', 'a,b', '3']
    >>> parse_tags(' , ')
    []
    """
    tags: list[str] = []
    position, end = 0, len(header)
    while position < end:
        if header[position] in " \t,":
            position += 1
            continue
        match = _TAG.match(header, position)
        if match is None:  # an unterminated quote: the rest is one tag
            rest = header[position:].strip()
            if rest[:2] in ("W/", "w/"):
                rest = rest[2:].lstrip()
            tags.append(rest.lstrip('"'))
            break
        quoted, bare = match.groups()
        tags.append(quoted if quoted is not None else bare.strip())
        position = match.end()
    return tags


def tag_matches(header: str, current: str | None) -> bool:
    """Whether a conditional header (a list of tags, or ``*``) names ``current``, weakly.

    ``current`` is a version or an ETag (``3``, ``W/"3"``, ``"3"``); ``None``
    (no such resource) matches nothing, not even ``*``.

    >>> tag_matches('W/"1", "3"', 'W/"3"'), tag_matches("*", 'W/"9"'), tag_matches('"2"', 'W/"3"')
    (True, True, False)
    >>> tag_matches('W/"x", W/"1"', "1"), tag_matches('"a,b"', 'W/"a,b"'), tag_matches("*", None)
    (True, True, False)
    """
    if current is None:
        return False
    if header.strip() == "*":
        return True
    wanted = parse_tags(current)
    return bool(wanted) and wanted[0] in parse_tags(header)


def versions_match(expected: str | None, actual: str | None) -> bool:
    """Whether a stored version satisfies an expected one (a store's ``expected_version``).

    The resource exists (the store holds it), so ``None`` expects nothing and
    ``*`` matches whatever its version; otherwise :func:`tag_matches`, so an
    ``If-Match`` list is honoured by every store exactly as by the service.

    >>> versions_match(None, "1"), versions_match('W/"x", W/"1"', '"1"'), versions_match("*", None)
    (True, True, True)
    >>> versions_match('"2"', 'W/"3"'), versions_match('"2"', None)
    (False, False)
    """
    return expected is None or expected.strip() == "*" or tag_matches(expected, actual)
