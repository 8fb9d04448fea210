"""Response bodies: orjson's bytes are :func:`compact`'s, and where it cannot, json writes them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from scimcore._json import _standard_bytes, compact, response_bytes

_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text()
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_DOCUMENTS)
def test_a_document_without_fractions_is_written_byte_for_byte_as_compact(document: Any) -> None:
    assert response_bytes(document) == compact(document).encode("utf-8")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_number_with_a_fraction_reads_back_the_same(number: float) -> None:
    assert json.loads(response_bytes({"x": number})) == {"x": number}


def test_what_orjson_refuses_is_written_by_json() -> None:
    big = {"id": "1", "size": 2**70}
    assert (
        response_bytes(big) == _standard_bytes(big) == b'{"id":"1","size":1180591620717411303424}'
    )
