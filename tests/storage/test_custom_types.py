"""SQL against the evaluator on a custom resource type with every attribute type.

The core schemas have no integer, decimal or multi-valued simple attribute to
filter on (RFC 7644 §3.4.2.2: numbers compare numerically); this Device type has them all.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.codecs.v2 import decode
from scimcore.errors import ScimError, Uniqueness
from scimcore.filter import compile_filter, parse_filter
from scimcore.models import make_model
from scimcore.schema import Attribute, ResourceType, Schema
from scimcore.storage import Query
from scimcore.stores import MemoryStore, SQLiteStore
from scimcore.testing import expected_order_key

URN = "urn:example:schemas:Device"
DEVICE_SCHEMA = Schema(
    URN,
    "Device",
    attributes=[
        Attribute("serialNumber", case_exact=True, uniqueness="server"),
        Attribute("label"),
        Attribute("ports", "integer", multi_valued=True),
        Attribute("weight", "decimal"),
        Attribute("online", "boolean"),
        Attribute("seen", "dateTime"),
        Attribute("blob", "binary", case_exact=True),
        Attribute("tags", multi_valued=True),
        Attribute(
            "specs",
            "complex",
            multi_valued=True,
            sub_attributes=[
                Attribute("name"),
                Attribute("size", "integer"),
                Attribute("primary", "boolean"),
            ],
        ),
        Attribute(
            "owner",
            "complex",
            sub_attributes=[Attribute("value", case_exact=True), Attribute("since", "dateTime")],
        ),
    ],
)
Device = make_model(
    DEVICE_SCHEMA, resource_type=ResourceType(name="Device", endpoint="/Devices", schema=URN)
)

TEXT = st.sampled_from(["", "a", "A", "ab", "%", "_", "é", "É", "x y", "Z"])
WHEN = st.sampled_from(
    [
        "2011-05-13T05:00:00+02:00",
        "2011-05-13T04:42:34Z",
        "2011-05-13T03:00:00Z",
        "2020-01-01T00:00:00",
    ]
)
NUMBER = st.one_of(st.integers(-3, 12), st.sampled_from([0.5, 9.5, -1.25, 10.0]))

devices = st.lists(
    st.fixed_dictionaries(
        {"schemas": st.just([URN])},
        optional={
            "label": TEXT,
            "ports": st.lists(st.integers(-3, 12), max_size=3),
            "weight": NUMBER,
            "online": st.booleans(),
            "seen": WHEN,
            "blob": st.sampled_from(["TUlJ", "tuij", "AA=="]),
            "tags": st.lists(TEXT, max_size=3),
            "specs": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={"name": TEXT, "size": st.integers(0, 12), "primary": st.booleans()},
                ),
                max_size=3,
            ),
            "owner": st.fixed_dictionaries({}, optional={"value": TEXT, "since": WHEN}),
        },
    ),
    max_size=6,
)

PATHS = {
    "label": TEXT,
    "ports": st.integers(-3, 12),
    "weight": NUMBER,
    "online": st.booleans(),
    "seen": WHEN,
    "blob": st.sampled_from(["TUlJ", "tuij"]),
    "tags": TEXT,
    "specs.name": TEXT,
    "specs.size": st.integers(0, 12),
    "specs.primary": st.booleans(),
    "owner.value": TEXT,
    "owner": TEXT,
    "owner.since": WHEN,
    "serialNumber": TEXT,
}
OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]


@st.composite
def leaf(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(sorted(PATHS)))
    if draw(st.integers(0, 8)) == 0:
        return f"{path} pr"
    op = draw(st.sampled_from(OPS))
    value = draw(st.one_of(PATHS[path], st.none()) if op in ("eq", "ne") else PATHS[path])
    return f"{path} {op} {json.dumps(value)}"


@st.composite
def inner(draw: st.DrawFn) -> str:
    sub = draw(st.sampled_from(["name", "size", "primary"]))
    value = {"name": TEXT, "size": st.integers(0, 12), "primary": st.booleans()}[sub]
    op = draw(st.sampled_from(["eq", "ne", "gt", "co"]))
    return f"{sub} {op} {json.dumps(draw(value))}"


filters = st.recursive(
    st.one_of(
        leaf(),
        st.builds(lambda f: f"specs[{f}]", inner()),
        st.builds(lambda a, b: f"specs[{a} and {b}]", inner(), inner()),
        st.builds(lambda f: f"tags[value {f}]", st.sampled_from(['eq "a"', 'co "A"', "pr"])),
    ),
    lambda f: st.one_of(
        st.builds(lambda x: f"not ({x})", f),
        st.builds(lambda x, y: f"({x}) and ({y})", f, f),
        st.builds(lambda x, y: f"({x}) or ({y})", f, f),
    ),
    max_leaves=3,
)
SORTS = st.sampled_from(
    [None, "weight", "seen", "ports", "specs.size", "label", "online", "owner.since"]
)


@pytest.mark.slow
@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(devices, filters, SORTS, st.booleans())
def test_sqlite_agrees_with_the_evaluator(
    data: list[dict[str, Any]], text: str, sort_by: str | None, descending: bool
) -> None:
    store = SQLiteStore(":memory:", models=[Device])
    created = []
    for i, item in enumerate(data):
        created.append(store.create(decode({**item, "serialNumber": f"S{i}"}, Device)))
    try:
        test = compile_filter(parse_filter(text), Device)
    except ScimError:
        try:
            store.search(Query(models=Device, filter=text))
        except ScimError:
            return
        raise AssertionError(f"{text!r}: the evaluator refused it, the store did not") from None
    expected = sorted(d.id for d in created if test(d))
    order = "descending" if descending else "ascending"
    page = store.search(Query(models=Device, filter=text, sort_by=sort_by, sort_order=order))
    assert sorted(d.id for d in page.resources) == expected, text
    assert page.total == len(expected)
    if sort_by is not None:
        from scimcore.storage import resolve_sort

        ref = resolve_sort(sort_by, Device)
        keys = [expected_order_key(d, ref) for d in page.resources]
        assert keys == sorted(keys, reverse=descending), (text, sort_by)
    store.close()


def test_numbers_compare_numerically() -> None:
    store = SQLiteStore(":memory:", models=[Device])
    store.create(decode({"serialNumber": "a", "weight": 10, "ports": [9, 10]}, Device))
    store.create(decode({"serialNumber": "b", "weight": 9.5, "ports": [100]}, Device))

    def names(text: str) -> list[str]:
        return sorted(
            d.serial_number for d in store.search(Query(models=Device, filter=text)).resources
        )

    assert names("weight gt 9") == ["a", "b"]
    assert names("weight gt 9.75") == ["a"]
    assert names("ports gt 9") == ["a", "b"]
    assert names("ports lt 10") == ["a"]
    page = store.search(Query(models=Device, sort_by="ports"))
    assert [d.serial_number for d in page.resources] == ["a", "b"]
    store.close()


def test_case_exact_uniqueness_from_a_custom_schema() -> None:
    for store in (MemoryStore(models=[Device]), SQLiteStore(":memory:", models=[Device])):
        store.create(Device(serial_number="X1"))
        store.create(Device(serial_number="x1"))
        try:
            store.create(Device(serial_number="X1"))
        except Uniqueness:
            pass
        else:
            raise AssertionError("serialNumber is unique (uniqueness: server)")
        store.close()
