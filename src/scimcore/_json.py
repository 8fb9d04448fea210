"""Compact JSON text, as scimcore writes it everywhere (responses, stored documents).

>>> compact({"userName": "bjensen", "emails": [{"value": "bj@example.com"}]})
'{"userName":"bjensen","emails":[{"value":"bj@example.com"}]}'
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["compact"]

# No check for cycles: what scimcore writes is a tree built from JSON or a model, and the
# check costs a fifth of the time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def compact(value: Any) -> str:
    """``value`` as JSON text without spaces, non-ASCII characters as they are."""
    return _ENCODER.encode(value)
