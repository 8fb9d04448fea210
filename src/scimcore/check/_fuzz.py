"""The differential checks: the server's answers against scimcore's evaluator and PATCH engine.

Theory of operation. Each check is a Hypothesis test run in process: an example
is one request (a filter, or a PATCH body) drawn from a strategy; the body sends
it, computes what the answer must be with the reference (``compile_filter`` over
the seeded users as the server returned them; ``patch_result`` over the user the
server created), and raises :class:`Divergence` when the server's answer is
another. Hypothesis then shrinks the request (fewer terms, fewer operations,
shorter values) while the divergence stays, and re-raises the minimal one: that
is the finding. A divergence that another value of one :class:`~scimcore.Policy`
switch explains names that switch.

The filters are drawn from the seeded values (the same value in another case,
a prefix, a suffix, a middle part) so that they select something, mixed with
:func:`scimcore.strategies.filters` over every attribute of ``User``; each is
sent as ``userName sw "<prefix>" and (<filter>)``, which keeps it to the run's
own users on a shared server. They are drawn in batches of up to
:data:`FILTER_BATCH` per Hypothesis example (generating costs more than checking);
a failing batch shrinks to one filter. PATCH bodies mix operations that must
succeed on the template user (:class:`Sure`) with
:func:`scimcore.strategies.patch_requests`. Projections compare a GET by id with
``attributes`` or ``excludedAttributes`` against the codec's projection.

No finding without the RFC behind it: a filter refused with ``invalidFilter``, a
PATCH refused that is not :class:`Sure`, a divergence a switch's *strict* value
explains (the server keeps to the RFC where the profile tolerates more), a
``null`` comparison (no meaning in RFC 7644), and differences the RFC calls one
state (empty values, RFC 7643 §2.5; relative and absolute ``$ref``, §2.3.7) are
not findings.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning

from scimcore.check._findings import Finding
from scimcore.check._session import Answer, Session, template_user
from scimcore.check._target import Sent
from scimcore.codecs import v2
from scimcore.errors import InvalidPath, InvalidValue, Mutability, NoTarget, ScimError
from scimcore.filter import (
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    ValuePath,
    compile_filter,
    walk,
)
from scimcore.models import User
from scimcore.patch import patch_result
from scimcore.policy import Policy
from scimcore.strategies import filters, patch_requests

__all__ = ["Divergence", "FuzzResult", "check_filters", "check_patches", "policy_alternatives"]

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class Divergence(Exception):
    """An example whose answer is not the reference's; carries the finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.summary)
        self.finding = finding


@attrs.frozen
class FuzzResult:
    """What a fuzzed check ran: examples (shrinking included) and the finding, if any."""

    examples: int
    finding: Finding | None


def policy_alternatives(policy: Policy) -> Iterator[tuple[str, Policy]]:
    """``(switch=value, policy)`` for each other value any preset gives one switch.

    >>> next(policy_alternatives(Policy.interop()))[0]
    'string_booleans=False'
    """
    presets = [Policy.strict(), Policy.entra(), Policy.okta(), Policy.interop()]
    for field in attrs.fields(Policy):
        current = getattr(policy, field.name)
        values = [getattr(p, field.name) for p in presets]
        if isinstance(current, bool):
            values = [not current]
        for value in dict.fromkeys(values):
            if value != current:
                yield f"{field.name}={value!r}", attrs.evolve(policy, **{field.name: value})


def explain(policy: Policy, agrees: Callable[[Policy], bool]) -> tuple[str | None, bool]:
    """The switch whose other value makes the reference agree with the server, if one does,
    and whether that value is :meth:`Policy.strict`'s (the server then keeps to the RFC
    where the profile tolerates more: no finding). A strict value is preferred."""
    strict = Policy.strict()
    found: str | None = None
    for switch, other in policy_alternatives(policy):
        if agrees(other):
            name = switch.split("=", 1)[0]
            if getattr(other, name) == getattr(strict, name):
                return switch, True
            found = found or switch
    return found, False


class _Spent(BaseException):
    """The budget is spent: stop generating (not a failure, so Hypothesis does not shrink)."""


def _run(
    session: Session,
    strategy: Any,
    body: Callable[[Any], bool | None],
    *,
    batch: int = 1,
) -> FuzzResult:
    """Run ``body`` over ``strategy`` within the budget; the shrunk divergence, if any.

    ``body`` raises :class:`Divergence`, or returns ``False`` for an example it did not
    send (not counted).

    With ``batch`` above 1, each Hypothesis example is a list of up to ``batch``
    requests (fewer examples to generate for as many requests; a failing list
    shrinks to the one request that fails). Once a divergence is seen, the budget
    no longer stops the run: shrinking goes to its end. A spent budget stops the
    run with :class:`_Spent`, which Hypothesis lets through as it does ``KeyboardInterrupt``
    (it is no ``Exception``): it is no failure to shrink.
    """
    budget = session.budget
    count = 0
    failed = False
    if batch > 1:
        strategy = st.lists(strategy, min_size=1, max_size=batch)

    @settings(
        max_examples=max(1, budget.max_examples),
        deadline=None,
        database=None,
        derandomize=False,
        report_multiple_bugs=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,  # the report says it all; Hypothesis prints nothing
    )
    @given(strategy)
    def run(example: Any) -> None:
        nonlocal count, failed
        for item in example if batch > 1 else [example]:
            if not failed and (count >= budget.max_examples or not budget.left()):
                raise _Spent
            count += 1
            try:
                if body(item) is False:
                    count -= 1  # not sent (a filter SCIM 1.1 cannot say): not checked
            except Divergence:
                failed = True
                raise

    if budget.seed is not None:
        run = seed(budget.seed)(run)
    try:
        with warnings.catch_warnings():
            # the generic strategies' examples can be large: their repr is never shown
            warnings.simplefilter("ignore", HypothesisWarning)
            run()
    except _Spent:
        pass
    except Divergence as divergence:
        return FuzzResult(count, divergence.finding)
    return FuzzResult(count, None)


# ----------------------------------------------------------------------------- filters

#: The attributes the seeded filters compare: (schema URN or None, name, sub-attribute).
_FILTERED: tuple[tuple[str | None, str, str | None], ...] = (
    (None, "userName", None),
    (None, "displayName", None),
    (None, "nickName", None),
    (None, "title", None),
    (None, "externalId", None),
    (None, "active", None),
    (None, "name", "givenName"),
    (None, "name", "familyName"),
    (None, "emails", "value"),
    (None, "emails", "type"),
    (None, "emails", "primary"),
    (ENTERPRISE, "employeeNumber", None),
    (ENTERPRISE, "department", None),
)

_WORDS = ("work", "home", "tour", "x", "")

#: Filters per Hypothesis example: generating an example costs more than checking a filter.
FILTER_BATCH = 8


def _values(users: list[User], path: AttrPath) -> list[Any]:
    """The values the seeded users hold at ``path`` (wire JSON)."""
    found: list[Any] = []
    for user in users:
        document = v2.encode(user)
        container = document.get(path.urn, {}) if path.urn else document
        value = container.get(path.name)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if path.sub is not None:
                item = item.get(path.sub) if isinstance(item, dict) else None
            if item is not None:
                found.append(item)
    return found


def _literals(values: list[Any]) -> list[Any]:
    """Literals made from seeded values: each, in other cases, a prefix, a suffix, a part."""
    found: dict[Any, None] = {}
    for value in values:
        found[value] = None
        if isinstance(value, str) and value:
            for variant in (value.upper(), value.lower(), value.swapcase(), value[:3], value[-3:]):
                found[variant] = None
            if len(value) > 4:
                found[value[1:-1]] = None
    found.update((word, None) for word in _WORDS)
    return list(found)


_CASES: tuple[Callable[[str], str], ...] = (str, str.upper, str.lower, str.swapcase)


def seeded_filters(users: list[User], *, version: int) -> Any:
    """Filters over the seeded users' own values (so that they select some, not none).

    Two leaves in three take a value a seeded user holds, in some case, whole for
    ``eq`` or the part ``sw``, ``ew``, ``co`` compare (so the condition selects that
    user under the attribute's ``caseExact``); the third compares any seeded value or
    word with any operator, or tests presence.
    """
    ops = ["eq", "co", "sw", "gt", "ge", "lt", "le"] + (["ne", "ew"] if version == 2 else [])
    held: list[tuple[AttrPath, str]] = []
    typed: list[tuple[AttrPath, list[Any]]] = []
    for urn, name, sub in _FILTERED:
        path = AttrPath(urn, name, sub)
        values = _values(users, path)
        if values:
            typed.append((path, values))
            held.extend((path, v) for v in dict.fromkeys(values) if isinstance(v, str) and v)
    parts = ["eq", "sw", "co"] + (["ew"] if version == 2 else [])
    # Every strategy a draw picks from is made once, here: a strategy made in a draw is made
    # (and its list copied and validated) again for every example.
    held_values, part_ops, cases = (
        st.sampled_from(held),
        st.sampled_from(parts),
        st.sampled_from(_CASES),
    )
    typed_values = st.sampled_from(
        [(path, values, st.sampled_from(_literals(values))) for path, values in typed]
    )
    bool_ops, any_ops = (
        st.sampled_from(["eq", "ne"] if version == 2 else ["eq"]),
        st.sampled_from(ops),
    )

    @st.composite
    def matching(draw: st.DrawFn) -> Filter:
        path, value = draw(held_values)
        op = draw(part_ops)
        value = draw(cases)(value)
        if op != "eq" and len(value) > 2:
            size = draw(st.integers(1, len(value) - 1))
            value = value[:size] if op == "sw" else value[-size:] if op == "ew" else value[1:size]
        return Compare(path, op, value)

    @st.composite
    def other(draw: st.DrawFn) -> Filter:
        path, values, literals = draw(typed_values)
        if draw(st.integers(0, 5)) == 0:
            return Present(path)
        if isinstance(values[0], bool):
            return Compare(path, draw(bool_ops), draw(st.booleans()))
        return Compare(path, draw(any_ops), draw(literals))

    leaves = [matching(), matching(), other()]
    if version == 2:
        inner = st.builds(
            Compare,
            st.sampled_from([AttrPath(None, "type", None), AttrPath(None, "value", None)]),
            st.sampled_from(["eq", "co", "sw"]),
            st.sampled_from(["work", "WORK", "home", "example", "@x.com"]),
        )
        leaves.append(st.builds(ValuePath, st.just(AttrPath(None, "emails", None)), inner))
    leaf = st.one_of(leaves)

    def extend(children: Any) -> Any:
        many = st.lists(children, min_size=2, max_size=3).map(tuple)
        options = [many.map(And), many.map(Or)]
        if version == 2:
            options.append(children.map(Not))
        return st.one_of(options)

    return st.recursive(leaf, extend, max_leaves=4)


def _matches(node: Filter, users: list[User], policy: Policy) -> list[str] | type[ScimError]:
    """The ids of the users ``node`` selects, or the error the evaluator raises."""
    try:
        test = compile_filter(node, User, policy=policy)
        return sorted(u.id for u in users if u.id is not None and test(u))
    except ScimError as error:
        return type(error)


def _ids(answer: Answer) -> list[str] | None:
    resources = answer.body.get("Resources", []) if isinstance(answer.body, dict) else None
    if not isinstance(resources, list):
        return None
    return sorted(str(r.get("id")) for r in resources if isinstance(r, dict))


def _names_of(ids: list[str] | type[ScimError], users: list[User]) -> Any:
    if not isinstance(ids, list):
        return {"status": 400, "scimType": "invalidFilter"}
    by_id = {u.id: u.user_name for u in users}
    return sorted(by_id.get(i, i) for i in ids)


def check_filters(session: Session) -> FuzzResult:
    """Filters: the server selects what ``compile_filter`` selects (RFC 7644 §3.4.2.2)."""
    users = session.seed()
    version = session.version
    scope = Compare(AttrPath(None, "userName", None), "sw", session.seed_prefix)
    strategy = st.one_of(
        seeded_filters(users, version=version),
        seeded_filters(users, version=version),
        seeded_filters(users, version=version),
        filters(User, version=version),
    )

    def body(node: Filter) -> bool | None:
        if any(isinstance(part, Compare) and part.value is None for part in walk(node)):
            # the RFC gives `null` a place in the grammar but no meaning in a comparison
            # (RFC 7644 §3.4.2.2): scimcore's reading (`eq null` is `not pr`) is its own
            return False
        sent_filter = And((scope, node))
        try:
            text = session.filter_text(sent_filter)
        except ScimError:
            return False  # not expressible in SCIM 1.1
        expected = _matches(sent_filter, users, session.policy)
        sent, answer = session.call(
            "GET", "/Users", query={"filter": text, "count": len(users) + 5}
        )
        actual: list[str] | type[ScimError] | None
        if answer.status == 400:
            actual = ScimError
            if not isinstance(expected, list) or answer.scim_type == "invalidFilter":
                # a server may refuse a filter it does not support (RFC 7644 §3.4.2.2,
                # Table 9: "the specified attribute and filter comparison combination
                # is not supported"); it must not answer it wrongly
                return True
        elif answer.status == 200:
            actual = _ids(answer)
            total = answer.body.get("totalResults") if isinstance(answer.body, dict) else None
            if actual == expected and total == len(actual):
                return True
        else:
            actual = None

        def agrees(other: Policy) -> bool:
            again = _matches(sent_filter, users, other)
            return (actual is ScimError and not isinstance(again, list)) or again == actual

        explained, stricter = explain(session.policy, agrees)
        if stricter:
            return True
        shown_actual = (
            answer.summary()
            if actual is None or actual is ScimError
            else {
                "status": answer.status,
                "matched": _names_of(actual, users),
                "totalResults": answer.body.get("totalResults"),
            }
        )
        raise Divergence(
            Finding(
                check="filter.differential",
                summary="the server's filter result is not the evaluator's",
                rfc="RFC 7644 §3.4.2.2",
                request=sent,
                expected={"matched": _names_of(expected, users)}
                if isinstance(expected, list)
                else _names_of(expected, users),
                actual=shown_actual,
                policy=explained,
            )
        )

    return _run(session, strategy, body, batch=FILTER_BATCH)


# ----------------------------------------------------------------------------- PATCH

_SIMPLE = ("title", "displayName", "nickName", "name.givenName", "active")


#: Value filters that select one value of the template user, and a new value for it.
_SELECTED = (
    ('emails[type eq "work"]', "x@example.com"),
    ('emails[type eq "home"]', "y@example.com"),
    ('emails[value eq "babs@jensen.org"]', "z@example.com"),
    ("emails[primary eq true]", "x@example.com"),
    ('phoneNumbers[type eq "mobile"]', "555-555-0000"),
    ('phoneNumbers[type eq "work"]', "555-555-0001"),
)


def _targeted_operations() -> Any:
    """PATCH operations that must succeed on the template user (each a :class:`Sure`):
    value filters that select, well-typed values, attributes it has."""
    selected = st.sampled_from(_SELECTED)
    word = st.sampled_from(["Tour", "work", "x"])
    remove = st.builds(lambda pv: Sure(op="remove", path=pv[0]), selected)
    replace_sub = st.builds(
        lambda pv: Sure(op="replace", path=f"{pv[0]}.value", value=pv[1]), selected
    )
    add_email = st.builds(
        lambda v, t: Sure(op="add", path="emails", value=[{"value": v, "type": t}]),
        st.sampled_from(["new@example.com", "more@example.com"]),
        st.sampled_from(["work", "other"]),
    )

    def simple(path: str, value: Any) -> dict[str, Any]:
        return Sure(op="replace", path=path, value=value)

    replace_simple = st.builds(simple, st.sampled_from(_SIMPLE[:4]), word) | st.builds(
        simple, st.just("active"), st.booleans()
    )
    remove_simple = st.builds(lambda p: Sure(op="remove", path=p), st.sampled_from(_SIMPLE))
    return st.one_of(remove, replace_sub, add_email, replace_simple, remove_simple)


def patch_bodies() -> Any:
    """PATCH bodies: targeted operations mixed with :func:`scimcore.strategies.patch_requests`."""
    generic = patch_requests(User, max_operations=1).map(lambda b: b["Operations"][0])
    operation = st.one_of(_targeted_operations(), _targeted_operations(), generic)
    return st.lists(operation, min_size=1, max_size=3).map(
        lambda ops: {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": ops,
        }
    )


def _comparable(resource: Any, base: str) -> dict[str, Any]:
    """What a PATCH result is compared on: the wire document without server-kept parts,
    in one form where the RFC allows two.

    Absent, ``null``, ``[]`` and ``{}`` are one state (RFC 7643 §2.5), so empty values
    and empty elements are dropped; a ``$ref`` relative to the service's base URL and
    the same made absolute are one reference (RFC 7643 §2.3.7), so the base is cut off.
    """
    document = v2.encode(resource)
    for key in ("meta", "groups", "id", "password"):
        document.pop(key, None)
    normal: dict[str, Any] = _normal(document, base + "/")
    return normal


#: The values that are one state with an absent attribute (RFC 7643 §2.5).
_EMPTY: tuple[Any, ...] = (None, [], {})


def _normal(value: Any, base: str, key: str = "") -> Any:
    if isinstance(value, dict):
        pairs = ((k, _normal(v, base, k)) for k, v in value.items())
        return {k: v for k, v in pairs if v not in _EMPTY}
    if isinstance(value, list):
        elements = (_normal(v, base) for v in value)
        return [v for v in elements if v not in _EMPTY]
    if key == "$ref" and isinstance(value, str) and value.startswith(base):
        return value[len(base) :]
    return value


def _expected_patch(before: User, body: dict[str, Any], policy: Policy, base: str) -> Any:
    try:
        return _comparable(patch_result(before, body, policy=policy).resource, base)
    except ScimError as error:
        return error


def check_patches(session: Session) -> FuzzResult:
    """PATCH: the server's result is ``patch_result``'s; a refused one changes nothing
    (RFC 7644 §3.5.2)."""

    def body(request: dict[str, Any]) -> None:
        user = template_user(session.unique_name("patch"))
        created, _, before = session.create("/Users", user)
        if before is None:
            return
        try:
            _patch_one(session, created, before, request)
        finally:
            session.delete("/Users", before.id)

    return _run(session, patch_bodies(), body)


class Sure(dict[str, Any]):
    """A PATCH operation that must succeed on the template user (RFC 7644 §3.5.2):
    well-typed, on an attribute the user has, its value filter selecting a value."""


def _sure(request: dict[str, Any]) -> bool:
    return all(isinstance(o, Sure) for o in request.get("Operations", []))


#: The section behind a PATCH the engine refuses, by the error it refuses it with.
_ERROR_SECTIONS: tuple[tuple[type[ScimError], str], ...] = (
    (Mutability, "RFC 7643 §2.2"),
    (NoTarget, "RFC 7644 §3.5.2.3"),
    (InvalidValue, "RFC 7644 §3.5.2, §3.12"),
    (InvalidPath, "RFC 7644 §3.5.2"),
)

#: The section of each PATCH operation (RFC 7644 §3.5.2.1-3).
_OPERATION_SECTIONS = {"add": "§3.5.2.1", "remove": "§3.5.2.2", "replace": "§3.5.2.3"}


def _patch_section(expected: Any, request: dict[str, Any]) -> str:
    """The RFC section a PATCH divergence rests on: the refusal's, else the operation's."""
    if isinstance(expected, ScimError):
        for error, section in _ERROR_SECTIONS:
            if isinstance(expected, error):
                return section
        return "RFC 7644 §3.5.2"
    ops = {str(o.get("op", "")).lower() for o in request.get("Operations", [])}
    if len(ops) == 1 and (op := ops.pop()) in _OPERATION_SECTIONS:
        return f"RFC 7644 {_OPERATION_SECTIONS[op]}"
    return "RFC 7644 §3.5.2"


def _selects(before: User, request: dict[str, Any], session: Session) -> bool:
    """Whether the operation the PATCH engine refuses has a value filter (``emails[…]``)."""
    operations = request.get("Operations", [])
    for count in range(1, len(operations) + 1):
        head = {**request, "Operations": operations[:count]}
        if isinstance(
            _expected_patch(before, head, session.policy, session.target.base_url), ScimError
        ):
            return "[" in str(operations[count - 1].get("path", ""))
    return False


def _differences(expected: Any, actual: Any) -> tuple[Any, Any]:
    """The parts of two wire documents that differ (the whole of each when not both are)."""
    if not isinstance(expected, dict) or not isinstance(actual, dict) or "status" in actual:
        return expected, actual
    keys = [k for k in {**expected, **actual} if expected.get(k) != actual.get(k)]
    return {k: expected.get(k) for k in keys}, {k: actual.get(k) for k in keys}


def _patch_one(session: Session, created: Sent, before: User, request: dict[str, Any]) -> None:
    base = session.target.base_url
    expected = _expected_patch(before, request, session.policy, base)
    sent, answer = session.call("PATCH", f"/Users/{before.id}", body=request)
    if answer.status == 409:
        return  # a uniqueness clash with a resource the reference does not know
    if answer.status in (200, 204):
        document = answer.body if answer.status == 200 and isinstance(answer.body, dict) else None
        if document is None:
            document = session.call("GET", f"/Users/{before.id}")[1].body
        actual: Any = _comparable(session.decode(document, User), base)
    elif 400 <= answer.status < 500:
        actual = answer.summary()
        after = session.call("GET", f"/Users/{before.id}")[1]
        if isinstance(expected, ScimError):
            start = _comparable(before, base)
            now = _comparable(session.decode(after.body, User), base)
            if now == start:
                return
            was, became = _differences(start, now)
            raise Divergence(
                Finding(
                    check="patch.atomic",
                    summary="a refused PATCH changed the resource",
                    rfc="RFC 7644 §3.5.2",
                    request=sent,
                    expected=was,
                    actual=became,
                    setup=(created,),
                )
            )
    else:
        actual = answer.summary()
    if not isinstance(expected, ScimError) and actual == expected:
        return
    refused = isinstance(actual, dict) and "status" in actual
    if isinstance(expected, NoTarget) and not refused and not _selects(before, request, session):
        # RFC 7644 asks for noTarget only when a value filter selects nothing
        # (§3.5.2.2, §3.5.2.3); scimcore's other noTarget refusals are its own choice
        return
    if refused and not isinstance(expected, ScimError) and not _sure(request):
        # a server may refuse what it finds invalid (a reference that is no URI, a
        # value of another type); only a request the RFC says must succeed is a finding
        return

    def agrees(other: Policy) -> bool:
        again = _expected_patch(before, request, other, base)
        if refused:
            return isinstance(again, ScimError)
        return not isinstance(again, ScimError) and again == actual

    explained, stricter = explain(session.policy, agrees)
    if stricter:
        return
    start = _comparable(before, base)
    shown_expected: Any
    if isinstance(expected, ScimError):
        shown_expected = {"status": expected.status, "scimType": expected.scim_type}
        actual = {"status": answer.status, "changed": _differences(start, actual)[1]}
    elif refused:
        shown_expected = {"changed": _differences(start, expected)[1]}
    else:
        shown_expected, actual = _differences(expected, actual)
    raise Divergence(
        Finding(
            check="patch.differential",
            summary="the server's PATCH result is not the PATCH engine's",
            rfc=_patch_section(expected, request),
            request=sent,
            expected=shown_expected,
            actual=actual,
            policy=explained,
            setup=(created,),
        )
    )


# ----------------------------------------------------------------------------- projections

#: The attribute paths projections name: the seeded users' attributes, a sub-attribute,
#: an extension's, ``meta`` parts, and names in another case.
_PROJECTED = (
    "userName",
    "displayName",
    "title",
    "nickName",
    "active",
    "name",
    "name.givenName",
    "emails",
    "emails.value",
    "EMAILS.TYPE",
    "externalId",
    "meta",
    "meta.created",
    f"{ENTERPRISE}:employeeNumber",
    ENTERPRISE,
    "urn:ietf:params:scim:schemas:core:2.0:User:title",
)


def check_projections(session: Session) -> FuzzResult:
    """``attributes`` and ``excludedAttributes`` return what the codec's projection returns
    (RFC 7644 §3.4.2.5, §3.9)."""
    users = session.seed()
    base = session.target.base_url
    names = st.lists(st.sampled_from(_PROJECTED), min_size=1, max_size=3, unique=True)
    strategy = st.tuples(st.sampled_from(range(len(users))), st.booleans(), names)

    def body(example: tuple[int, bool, list[str]]) -> bool | None:
        index, excluded, chosen = example
        user = users[index]
        parameter = "excludedAttributes" if excluded else "attributes"
        sent, answer = session.call("GET", f"/Users/{user.id}", query={parameter: ",".join(chosen)})
        projected = (
            v2.encode(user, excluded_attributes=chosen)
            if excluded
            else v2.encode(user, attributes=chosen)
        )
        expected = _projection(projected, base)
        if answer.status == 200 and isinstance(answer.body, dict):
            actual = _projection(answer.body, base)
            if actual == expected:
                return True
            expected, actual = _differences(expected, actual)
        else:
            actual = answer.summary()
        raise Divergence(
            Finding(
                check="projection.differential",
                summary=f"the {parameter} projection is not the codec's",
                rfc="RFC 7644 §3.4.2.5",
                request=sent,
                expected=expected,
                actual=actual,
            )
        )

    return _run(session, strategy, body)


def _projection(document: dict[str, Any], base: str) -> dict[str, Any]:
    """A projected wire document as compared: ``meta`` by its names only (the server keeps
    its values), empty values dropped, ``$ref`` relative to the base, and without
    ``schemas`` (whether an extension absent from a projection stays listed is not said
    by RFC 7643 §3)."""
    normal: dict[str, Any] = _normal(document, base + "/")
    normal.pop("schemas", None)
    if isinstance(normal.get("meta"), dict):
        normal["meta"] = sorted(normal["meta"])
    normal.pop("groups", None)
    return normal
