"""Compact JSON text, as scimcore writes it everywhere (responses, stored documents).

>>> compact({"userName": "bjensen", "emails": [{"value": "bj@example.com"}]})
'{"userName":"bjensen","emails":[{"value":"bj@example.com"}]}'

Response bodies are :func:`response_bytes`: the same text as UTF-8, written by
orjson when it is installed (the ``server`` extra has it), which takes a fifth
of the time. Its text is :func:`compact`'s byte for byte, but for numbers with
a fraction or an exponent, which it writes in the shortest form that reads
back the same (``1e-7`` rather than ``1e-07``). The stores write their
documents with it too (the values read back are the same either way); digests
(a mapped row's version) use :func:`compact`, so that they do not depend on
what is installed.

>>> response_bytes({"displayName": "Zoë", "active": True}).decode()
'{"displayName":"Zoë","active":true}'
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["compact", "response_bytes"]

# No check for cycles: what scimcore writes is a tree built from JSON or a model, and the
# check costs a fifth of the time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def compact(value: Any) -> str:
    """``value`` as JSON text without spaces, non-ASCII characters as they are."""
    return _ENCODER.encode(value)


def _standard_bytes(value: Any) -> bytes:
    return compact(value).encode("utf-8")


def _fast_bytes() -> Callable[[Any], bytes] | None:
    """orjson's ``dumps``, falling back to the standard library where it fails; ``None``
    where orjson is not installed."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - the server and test extras install it
        return None
    dumps, failure = orjson.dumps, orjson.JSONEncodeError

    def fast(value: Any) -> bytes:
        try:
            return dumps(value)
        except failure:  # an integer beyond 64 bits, a lone surrogate: as json does
            return _standard_bytes(value)

    return fast


#: ``compact(value)`` as UTF-8, by orjson when it is installed (see the module).
response_bytes: Callable[[Any], bytes] = _fast_bytes() or _standard_bytes
