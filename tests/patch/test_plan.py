"""plan_patch: ``apply_patch(old, plan_patch(old, new)) == new`` over generated pairs.

Users with the enterprise extension (every writable attribute drawn from the schema by
``scimcore.strategies.resources``), and Groups with up to 10,000 members, where the plan
must be the delta (removes and one add), never a replace of the whole list.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.codecs.v2 import encode
from scimcore.models import EnterpriseUser, Group, GroupMember, User
from scimcore.patch import PlanPolicy, apply_patch, plan_patch
from scimcore.schema import MutabilityKind
from scimcore.strategies import resources


def _empty(value: Any) -> bool:
    return (
        value is None
        or value == []
        or (
            attrs.has(type(value))
            and all(_empty(v) for v in attrs.asdict(value, recurse=False).values())
        )
    )


def _tidy(value: Any, attributes: Any) -> Any:
    """A value as a client can write it: no readOnly sub-attribute set, no empty complex
    value (an empty complex value is an unassigned one, RFC 7643 §2.5)."""
    changes: dict[str, Any] = {}
    for attribute in attributes:
        current = getattr(value, attribute.python_name)
        if not attribute.is_complex or current is None:
            continue
        subs = attribute.sub_attributes
        clear = {s.python_name: None for s in subs if s.mutability is MutabilityKind.READ_ONLY}
        if attribute.multi_valued:
            items = [attrs.evolve(v, **clear) if clear else v for v in current]
            changes[attribute.python_name] = [v for v in items if not _empty(v)]
        else:
            item = attrs.evolve(current, **clear) if clear else current
            changes[attribute.python_name] = None if _empty(item) else item
    return attrs.evolve(value, **changes)


def _valid(user: User) -> User:
    """What a server could hold and a client could write: a userName, at most one primary
    value per attribute, no readOnly sub-attribute set, no empty complex value or extension."""
    user = _tidy(user, User.__scim_schema__.attributes)
    changes: dict[str, Any] = {"user_name": user.user_name or "bjensen"}
    extension = user[EnterpriseUser]
    if extension is not None:
        fixed = _tidy(extension, EnterpriseUser.__scim_schema__.attributes)
        user = attrs.evolve(user, extensions=dict(user.extensions), schemas=list(user.schemas))
        user[EnterpriseUser] = None if _empty(fixed) else fixed
    for attribute in User.__scim_schema__.attributes:
        values = getattr(user, attribute.python_name)
        if attribute.multi_valued and attribute.sub_attribute("primary") is not None:
            seen = False
            one_primary = []
            for value in values:
                if value.primary:
                    value = attrs.evolve(value, primary=None if seen else True)
                    seen = True
                one_primary.append(value)
            changes[attribute.python_name] = one_primary
    return attrs.evolve(user, **changes)


def _read_only_of(old: User, new: User) -> User:
    """``new`` with ``old``'s read-only attributes (``id``, ``meta``, ``groups``)."""
    changes: dict[str, Any] = {"id": old.id, "meta": old.meta}
    for attribute in User.__scim_schema__.attributes:
        if attribute.mutability is MutabilityKind.READ_ONLY:
            changes[attribute.python_name] = getattr(old, attribute.python_name)
    return attrs.evolve(new, **changes)


users = resources(User).map(_valid)


def _applied(old: Any, plan: Any) -> Any:
    """``apply_patch``, or ``old`` itself for an empty plan (which a server would refuse)."""
    return apply_patch(old, plan) if plan.operations else old


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(users, users, st.booleans())
def test_users_round_trip(old: User, new: User, filters: bool) -> None:
    new = _read_only_of(old, new)
    plan = plan_patch(old, new, policy=PlanPolicy(value_filters=filters))
    assert _applied(old, plan) == new


@settings(max_examples=100, deadline=None)
@given(users, st.data())
def test_small_user_changes_round_trip(old: User, data: st.DataObject) -> None:
    """One attribute changed at a time: the plan touches only it."""
    new = attrs.evolve(old, title=data.draw(st.none() | st.text(max_size=5)))
    extension = data.draw(st.none() | st.builds(EnterpriseUser, department=st.text(max_size=5)))
    new[EnterpriseUser] = extension
    plan = plan_patch(old, new)
    assert _applied(old, plan) == new
    assert all(
        op.path and ("title" in op.path or "enterprise" in op.path) for op in plan.operations
    )


def test_unchanged_is_empty() -> None:
    user = User(user_name="bjensen", title="Tour Guide")
    assert plan_patch(user, attrs.evolve(user)).operations == []


@st.composite
def member_changes(draw: st.DrawFn) -> tuple[Group, Group, int, int]:
    size = draw(st.integers(0, 10_000))
    rng = draw(st.randoms(use_true_random=False))
    removed = set(rng.sample(range(size), draw(st.integers(0, min(size, 300)))))
    added = draw(st.integers(0, 300))
    members = [GroupMember(value=f"m{i}", type="User") for i in range(size)]
    kept = [m for i, m in enumerate(members) if i not in removed]
    fresh = [GroupMember(value=f"n{i}", display=f"New {i}") for i in range(added)]
    old = Group(id="g", display_name="Big", members=members)
    new = Group(id="g", display_name="Big", members=kept + fresh)
    return old, new, len(removed), added


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(member_changes(), st.booleans())
def test_large_groups_round_trip_as_deltas(
    change: tuple[Group, Group, int, int], filters: bool
) -> None:
    old, new, removed, added = change
    plan = plan_patch(old, new, policy=PlanPolicy(value_filters=filters))
    assert _applied(old, plan) == new
    ops = encode(plan)["Operations"] if plan.operations else []
    if new.members:  # the delta, never a replace of the whole list
        assert not any(op["op"] == "replace" for op in ops)
        removes = [op for op in ops if op["op"] == "remove"]
        assert len(removes) == (0 if not removed else removed if filters else 1)
        assert sum(len(op["value"]) for op in ops if op["op"] == "add") == added


def test_delta_quotes_member_values() -> None:
    old = Group(display_name="G", members=[GroupMember(value='a"b'), GroupMember(value="c")])
    new = Group(display_name="G", members=[GroupMember(value="c")])
    plan = plan_patch(old, new)
    assert encode(plan)["Operations"] == [{"op": "remove", "path": 'members[value eq "a\\"b"]'}]
    assert _applied(old, plan) == new


def test_without_value_filters_removes_with_a_value_list() -> None:
    old = Group(display_name="G", members=[GroupMember(value=v) for v in "abcd"])
    new = Group(display_name="G", members=[GroupMember(value=v) for v in "bcd"])
    plan = plan_patch(old, new, policy=PlanPolicy(value_filters=False))
    assert encode(plan)["Operations"] == [
        {"op": "remove", "path": "members", "value": [{"value": "a"}]}
    ]


def test_reordered_or_changed_values_are_replaced() -> None:
    old = Group(display_name="G", members=[GroupMember(value=v) for v in "abc"])
    new = Group(display_name="G", members=[GroupMember(value=v) for v in "cab"])
    plan = plan_patch(old, new)
    assert [op.op for op in plan.operations] == ["replace"]
    assert _applied(old, plan) == new


def test_models_must_match() -> None:
    with pytest.raises(TypeError, match="two User resources"):
        plan_patch(User(user_name="a"), Group(display_name="b"))


def test_ten_thousand_members() -> None:
    members = [GroupMember(value=f"m{i}") for i in range(10_000)]
    old = Group(id="g", display_name="Big", members=members)
    new = Group(
        id="g",
        display_name="Big",
        members=[m for i, m in enumerate(members) if i % 50] + [GroupMember(value="new")],
    )
    plan = plan_patch(old, new)
    ops = encode(plan)["Operations"]
    assert [op["op"] for op in ops] == ["remove"] * 200 + ["add"]
    assert ops[0] == {"op": "remove", "path": 'members[value eq "m0"]'}
    assert apply_patch(old, plan) == new
