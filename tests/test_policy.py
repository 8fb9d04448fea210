"""Policy presets: each switch as the presets document it."""

from __future__ import annotations

from pathlib import Path

import attrs

from scimcore import Policy

SWITCHES = [field.name for field in attrs.fields(Policy)]


def test_interop_is_the_default() -> None:
    assert Policy.interop() == Policy()


def test_strict_refuses_every_deviation() -> None:
    strict = Policy.strict()
    lenient = {
        name
        for name in SWITCHES
        if getattr(strict, name) is True or getattr(strict, name) in ("ignore", "matches_nothing")
    }
    # Merging partial complex values is what RFC 7644 §3.5.2.3 itself says, not a deviation.
    assert lenient == {"merge_partial_complex"}
    assert strict.unknown_attributes == "error"
    assert strict.unknown_filter_attribute == "error"


def test_entra_and_okta_presets() -> None:
    entra, okta = Policy.entra(), Policy.okta()
    assert entra.string_booleans and entra.remove_with_value and entra.create_on_no_match
    assert entra.dotted_value_keys and entra.manager_as_string and entra.urn_dot_separator
    assert not entra.ignore_matching_id  # Okta's deviation, not Entra's
    assert okta.ignore_matching_id and not okta.string_booleans and not okta.remove_with_value


def test_every_switch_is_documented() -> None:
    doc = Policy.__doc__ or ""
    for name in SWITCHES:
        assert f"``{name}``" in doc, name


def test_policies_are_frozen_and_hashable() -> None:
    assert len({Policy(), Policy.interop(), Policy.strict()}) == 2


DOCS = Path(__file__).parent.parent / "docs" / "policy.md"
PRESETS = {
    "strict": Policy.strict(),
    "entra": Policy.entra(),
    "okta": Policy.okta(),
    "interop": Policy.interop(),
}


def _table(heading: str) -> list[list[str]]:
    """The rows of the first table after ``heading`` in docs/policy.md, cells stripped."""
    rows: list[list[str]] = []
    for line in DOCS.read_text(encoding="utf-8").split(heading, 1)[1].splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
        elif rows:
            break
    return rows


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f'`"{value}"`'


def test_the_switch_table_of_the_docs_matches_the_presets() -> None:
    header, _, *rows = _table("## The switches")
    assert header[:5] == ["switch", *PRESETS]
    assert [row[0] for row in rows] == [f"`{name}`" for name in SWITCHES]
    for row in rows:
        name = row[0].strip("`")
        shown = [_shown(getattr(policy, name)) for policy in PRESETS.values()]
        assert row[1:5] == shown, name
        assert all(row[5:8]), name  # what it tolerates, who sends it, the source


def test_every_provider_reference_is_explained() -> None:
    _, _, *rows = _table("## Provider behaviours by reference")
    refs = [row[0] for row in rows]
    assert refs == [f"E{n}" for n in range(1, 21)] + [f"O{n}" for n in range(1, 12)]
    assert all(len(row) == 4 and all(row) for row in rows)
