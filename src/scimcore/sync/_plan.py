"""Planning: what a run would write, computed from both ends, the links and the rules.

Theory of operation
-------------------
A run reads, per resource type (Users first, then Groups, whose members are Users), the
resources of the source and of the target: all of them (a *full* run), or those modified since
the marks of the last run plus their counterparts (an *incremental* run). It then pairs them:

1. a resource linked in the state file is paired with its linked counterpart;
2. an unlinked one is matched by the :class:`Match` of its type against the unlinked resources
   of the other side: one candidate is adopted (linked), several are a conflict, none is a
   create (or nothing, as ``on_no_match`` says);
3. a linked resource whose counterpart is gone was removed on that side: its own side removes it
   too (``Rules.removal``), within the deletion threshold. A one-way sync carries removals from
   the source only; a target resource removed by someone else is created again.

For each pair, the *desired* copy of each side is that side's resource with the attributes the
other side owns copied over (group members translated through the links); the
:func:`scimcore.plan_patch` from the current to the desired copy is the update. Each attribute
having one owner, values flow one way only, so a second run over unchanged ends plans nothing:
that is what keeps a two-way sync from ping-ponging.

Nothing here writes; :mod:`scimcore.sync._apply` does, recomputing each desired copy from the
links as they are by then (a group's members may be users created earlier in the same run).
"""

from __future__ import annotations

import datetime
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from scimcore.codecs import v2
from scimcore.patch import plan_patch
from scimcore.sync._endpoint import Endpoint
from scimcore.sync._rules import Rules, Side, attribute_value, match_key
from scimcore.sync._state import Links, SyncState

__all__ = [
    "Action",
    "Direction",
    "Plan",
    "Verb",
    "create_copy",
    "desired_copy",
    "kind_of",
    "make_plan",
    "member_ids",
]

#: ``forward`` writes the target from the source; ``backward`` (two-way) the source from the target.
Direction = Literal["forward", "backward"]
Verb = Literal["create", "update", "link", "deactivate", "delete", "conflict"]

#: The verbs that take a resource away: what the deletion threshold counts.
REMOVALS = frozenset({"deactivate", "delete"})
#: How long before the newest ``lastModified`` read the next incremental run starts, beyond the
#: time the read took: a write committed while the run read (stamped before the newest
#: resource read, at most the read's length before it) is read again, never missed; the
#: margin covers the time between a write's stamp and its commit.
MARK_MARGIN = datetime.timedelta(seconds=5)
#: An incremental run reads the other side whole, instead of each counterpart by id, when more
#: than this many resources changed (and more than a 25th of the links).
READ_WHOLE = 100
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_ORDER = {"create": 0, "link": 1, "update": 2, "conflict": 3, "deactivate": 4, "delete": 5}


def kind_of(model: type[Any]) -> str:
    """The resource type name of ``model`` (``User``, ``Group``)."""
    resource_type = getattr(model, "__scim_resource_type__", None)
    return str(getattr(resource_type, "name", None) or model.__name__)


def _label(resource: Any) -> str:
    for name in ("user_name", "display_name", "external_id", "id"):
        value = getattr(resource, name, None)
        if value:
            return str(value)
    return "?"


@attrs.frozen
class Action:
    """One write of a plan.

    ``origin`` is the resource the write copies from (the source's, going ``forward``);
    ``current`` the resource written (``None`` for a create); ``detail`` what changes, as the
    plan prints it.
    """

    verb: Verb
    direction: Direction
    model: type[Any]
    label: str
    origin: Any = None
    current: Any = None
    detail: str = ""

    @property
    def kind(self) -> str:
        return kind_of(self.model)

    @property
    def written_side(self) -> Side:
        return "target" if self.direction == "forward" else "source"

    def __str__(self) -> str:
        arrow = "→ target" if self.direction == "forward" else "→ source"
        detail = f"  {self.detail}" if self.detail else ""
        return f"{self.verb:<10} {self.kind:<5} {self.label!r} {arrow}{detail}"


@attrs.frozen
class Plan:
    """What a run would write, for review before anything is written (a dry run prints it).

    ``population`` is the number of linked resources of each type before the run (what the
    deletion threshold's share is of); ``marks`` where the next incremental run starts, once
    this plan is applied without a failure.
    """

    source: str
    target: str
    mode: Literal["full", "incremental"]
    actions: tuple[Action, ...]
    population: Mapping[str, int] = attrs.field(factory=dict)
    marks: Mapping[tuple[str, Side], datetime.datetime] = attrs.field(factory=dict)

    def counts(self) -> Counter[str]:
        """How many actions of each verb."""
        return Counter(a.verb for a in self.actions)

    def removals(self, kind: str) -> int:
        """How many deactivations and deletes of ``kind`` the plan holds."""
        return sum(1 for a in self.actions if a.kind == kind and a.verb in REMOVALS)

    @property
    def writes(self) -> int:
        """How many actions write something (conflicts do not)."""
        return sum(1 for a in self.actions if a.verb != "conflict")

    def __str__(self) -> str:
        head = f"{self.mode} sync {self.source} → {self.target}: "
        counts = self.counts()
        if not counts:
            return head + "nothing to do"
        summary = ", ".join(f"{counts[v]} {v}" for v in _ORDER if counts[v])
        return "\n".join([head + summary, *(f"  {a}" for a in self.actions)])


# ------------------------------------------------------------------------- desired copies


def _members(document: dict[str, Any], ids: Callable[[str], str | None]) -> list[Any]:
    members = []
    for member in document.get("members") or []:
        mapped = ids(str(member.get("value", "")))
        if mapped is not None:
            entry = {"value": mapped}
            if member.get("type"):
                entry["type"] = member["type"]
            members.append(entry)
    return members


def _overlay(
    base: dict[str, Any],
    origin: dict[str, Any],
    copies: Callable[[str], bool],
) -> dict[str, Any]:
    """``base`` with every attribute ``copies`` accepts taken from ``origin`` (or removed)."""
    result = dict(base)
    base_keys = {k.casefold(): k for k in base}
    origin_keys = {k.casefold(): k for k in origin}
    for folded in [*base_keys, *(k for k in origin_keys if k not in base_keys)]:
        in_origin, in_base = origin_keys.get(folded), base_keys.get(folded)
        key = in_origin or in_base or folded
        if folded.startswith("urn:"):
            inner_base = dict(result.get(in_base, {}) if in_base else {})
            inner_origin = origin.get(in_origin, {}) if in_origin else {}
            inner = _overlay(inner_base, inner_origin, _within(key, copies))
            inner.pop("schemas", None)
            if in_base:
                del result[in_base]
            if inner:
                result[key] = inner
            continue
        if folded == "schemas" or not copies(key):
            continue
        if in_base:
            del result[in_base]
        if in_origin is not None and origin[in_origin] not in (None, [], ""):
            result[in_origin] = origin[in_origin]
    extensions = [k for k in result if k.casefold().startswith("urn:")]
    every_key = base_keys.keys() | origin_keys.keys()
    declared = base.get("schemas") or origin.get("schemas") or []
    core = [s for s in declared if s.casefold() not in every_key]
    if core or extensions:
        result["schemas"] = [*core, *extensions]
    return result


def member_ids(
    links: Sequence[Links],
    direction: Direction,
    pending: Sequence[Mapping[str, str]] = (),
) -> Callable[[str], str | None]:
    """Translate a member's id from the origin's side to the written side through ``links``
    (one per resource type), then ``pending`` (ids this plan will link); ``None``: unknown.

    >>> translate = member_ids([Links({"s1": "t1"})], "forward", [{"s2": "(new)"}])
    >>> translate("s1"), translate("s2"), translate("s3")
    ('t1', '(new)', None)
    >>> member_ids([Links({"s1": "t1"})], "backward")("t1")
    's1'
    """

    def translate(value: str) -> str | None:
        for link in links:
            found = link.target_of(value) if direction == "forward" else link.source_of(value)
            if found is not None:
                return found
        for planned in pending:
            if value in planned:
                return planned[value]
        return None

    return translate


def _within(urn: str, copies: Callable[[str], bool]) -> Callable[[str], bool]:
    """``copies`` for the attributes of the extension ``urn`` (named ``urn:attribute``)."""

    def inner(name: str) -> bool:
        return copies(f"{urn}:{name}")

    return inner


def _kept_members(desired: list[Any], current: dict[str, Any]) -> list[Any]:
    """Desired members, each as the current copy shows it when it is there already (so that a
    ``display`` or ``$ref`` the server adds is not a difference)."""
    held = {str(m.get("value")): m for m in current.get("members") or []}
    return [held.get(m["value"], m) for m in desired]


def desired_copy(
    rules: Rules,
    origin: Any,
    current: Any,
    direction: Direction,
    ids: Callable[[str], str | None],
) -> Any:
    """``current`` with the attributes the origin's side owns copied from ``origin``.

    ``ids`` translates a member's id from the origin's side to the written side (``None``:
    not linked, left out).
    """
    owner: Side = "source" if direction == "forward" else "target"
    origin_doc = v2.encode(origin, full=True)
    current_doc = v2.encode(current, full=True)
    if "members" in origin_doc:
        origin_doc["members"] = _kept_members(_members(origin_doc, ids), current_doc)

    def copies(path: str) -> bool:
        return rules.written(path) and rules.owner(path) == owner

    document = _overlay(current_doc, origin_doc, copies)
    return v2.decode(document, type(current))


def create_copy(rules: Rules, origin: Any, ids: Callable[[str], str | None]) -> Any:
    """What is created on the other side for ``origin``: every attribute a sync writes."""
    origin_doc = v2.encode(origin, full=True)
    if "members" in origin_doc:
        origin_doc["members"] = _members(origin_doc, ids)
    document = _overlay({}, origin_doc, rules.written)
    return v2.decode(document, type(origin), context="creation")


# ---------------------------------------------------------------------------- planning


@attrs.define
class _Side:
    """What was read of one side for one resource type."""

    end: Endpoint
    resources: dict[str, Any] = attrs.field(factory=dict)
    gone: set[str] = attrs.field(factory=set)
    newest: datetime.datetime | None = None
    whole: bool = False  # every resource of the type was read

    def add(self, resource: Any) -> None:
        self.resources[resource.id] = resource
        modified = getattr(getattr(resource, "meta", None), "last_modified", None)
        if modified is not None and (self.newest is None or modified > self.newest):
            self.newest = modified


def _keys(rules: Rules, model: type[Any], resource: Any) -> list[tuple[str, Any]]:
    """``(rule, comparable key)`` of each match rule ``resource`` has a value for, in order."""
    match = rules.match_of(model)
    if match.key is not None:
        value = match.key(resource)
        return [] if value is None else [("key", value)]
    document = v2.encode(resource, full=True)
    keys = []
    for path in match.attributes:
        key = match_key(model, path, attribute_value(document, path))
        if key is not None:
            keys.append((path, key))
    return keys


def _lookups(rules: Rules, model: type[Any], resource: Any) -> list[tuple[str, Any]]:
    """``(path, value)`` to find ``resource``'s counterpart with ``eq`` filters."""
    match = rules.match_of(model)
    if match.key is not None:
        return []
    document = v2.encode(resource, full=True)
    found = []
    for path in match.attributes:
        value = attribute_value(document, path)
        if value not in (None, ""):
            found.append((path, value))
    return found


def _read_full(model: type[Any], side: _Side, links_ids: Iterable[str]) -> None:
    for resource in side.end.read(model):
        side.add(resource)
    side.whole = True
    side.gone = {i for i in links_ids if i not in side.resources}


def _read_changed(
    rules: Rules,
    model: type[Any],
    changed: Iterable[Any],
    mine: _Side,
    other: _Side,
    counterpart: Callable[[str], str | None],
    linked: int,
) -> None:
    """Add ``changed`` to ``mine`` and their counterparts (linked, or found) to ``other``.

    Counterparts are read one by one (a ``GET`` by id, or ``eq`` filters), unless so many
    changed that reading the other side whole costs less (:data:`READ_WHOLE`).
    """
    changed = list(changed)
    if not other.whole and len(changed) > max(READ_WHOLE, linked / 25):
        for resource in other.end.read(model):
            other.add(resource)
        other.whole = True
    for resource in changed:
        mine.add(resource)
        counterpart_id = counterpart(resource.id)
        if counterpart_id is not None:
            if counterpart_id not in other.resources and counterpart_id not in other.gone:
                found = None if other.whole else other.end.get(model, counterpart_id)
                if found is None:
                    other.gone.add(counterpart_id)
                else:
                    other.add(found)
            continue
        if other.whole:
            continue  # matched against everything the other side holds
        lookups = _lookups(rules, model, resource)
        if not lookups and rules.match_of(model).key is not None:
            raise ValueError("an incremental run cannot match by function: run a full one")
        for path, value in lookups:
            for found in other.end.find(model, path, value):
                if found.id not in other.resources:
                    other.add(found)


def _removal(rules: Rules, model: type[Any], resource: Any, direction: Direction) -> Action | None:
    label = _label(resource)
    if rules.removal == "delete":
        return Action("delete", direction, model, label, current=resource, detail="gone")
    if rules.removal == "deactivate" and hasattr(resource, "active"):
        if resource.active is False:
            return None
        return Action("deactivate", direction, model, label, current=resource, detail="gone")
    return None


def _describe(patch: Any) -> str:
    parts = []
    for op in patch.operations:
        path = op.path or "(resource)"
        if path.startswith("members"):
            value = op.value if isinstance(op.value, list) else []
            parts.append(f"{op.op} members ({len(value)})" if op.op == "add" else f"{op.op} member")
        else:
            parts.append(f"{op.op} {path}")
    return "; ".join(parts)


def _update(
    rules: Rules,
    model: type[Any],
    origin: Any,
    current: Any,
    direction: Direction,
    ids: Callable[[str], str | None],
    *,
    adopt: bool,
) -> Action | None:
    desired = desired_copy(rules, origin, current, direction, ids)
    patch = plan_patch(current, desired)
    if not patch.operations:
        if adopt:
            return Action("link", direction, model, _label(origin), origin, current, "matched")
        return None
    detail = ("matched; " if adopt else "") + _describe(patch)
    return Action("update", direction, model, _label(origin), origin, current, detail)


@attrs.define
class _Planner:
    rules: Rules
    state: SyncState
    source: Endpoint
    target: Endpoint
    #: Per resource type, ids created by this plan map to a placeholder, for the plan's
    #: display of members (apply maps them to the real ids).
    pending: dict[str, dict[str, str]] = attrs.field(factory=dict)

    def ids(self, direction: Direction) -> Callable[[str], str | None]:
        kinds = ("User", "Group")
        return member_ids(
            [self.state.links(kind) for kind in kinds],
            direction,
            [self.pending.get(f"{kind}:{direction}", {}) for kind in kinds],
        )

    def plan_type(
        self, model: type[Any], incremental: bool, changes: Iterable[str] | None
    ) -> tuple[list[Action], dict[tuple[str, Side], datetime.datetime], int, bool]:
        """The actions for one resource type, the marks to set, the links before, and
        whether both sides were read whole."""
        rules, kind = self.rules, kind_of(model)
        links = self.state.links(kind)
        started = time.monotonic()
        src, tgt = _Side(self.source), _Side(self.target)
        since_source = self.state.mark(kind, "source")
        since_target = self.state.mark(kind, "target")
        complete = (
            not incremental or since_source is None or (rules.two_way and since_target is None)
        )
        if changes is not None:
            complete = False
            fetched = {i: self.source.get(model, i) for i in changes}
            changed = [r for r in fetched.values() if r is not None]
            src.gone |= {i for i, r in fetched.items() if r is None and links.target_of(i)}
            _read_changed(rules, model, changed, src, tgt, links.target_of, len(links))
            for source_id in src.gone:
                target_id = links.target_of(source_id)
                found = None if target_id is None else self.target.get(model, target_id)
                if found is not None:
                    tgt.add(found)
        elif complete:
            _read_full(model, src, links.forward)
            _read_full(model, tgt, links.backward)
        else:
            changed_source = list(self.source.read(model, since=since_source))
            _read_changed(rules, model, changed_source, src, tgt, links.target_of, len(links))
            if rules.two_way:
                changed_target = list(self.target.read(model, since=since_target))
                _read_changed(rules, model, changed_target, tgt, src, links.source_of, len(links))
        margin = MARK_MARGIN + datetime.timedelta(seconds=time.monotonic() - started)
        actions = self._pair(model, links, src, tgt)
        marks: dict[tuple[str, Side], datetime.datetime] = {}
        sides: list[tuple[Side, _Side, datetime.datetime | None]] = [("source", src, since_source)]
        if rules.two_way:
            sides.append(("target", tgt, since_target))
        for side_name, side, since in sides if changes is None else []:
            if side.newest is None:
                if complete and since is None:  # nothing there yet: everything is new
                    marks[(kind, side_name)] = EPOCH
                continue
            mark = side.newest - margin
            marks[(kind, side_name)] = max(mark, since) if since is not None else mark
        return actions, marks, len(links), complete

    def _pair(self, model: type[Any], links: Links, src: _Side, tgt: _Side) -> list[Action]:
        rules, kind = self.rules, kind_of(model)
        match = rules.match_of(model)
        forward_ids, backward_ids = self.ids("forward"), self.ids("backward")
        actions: list[Action] = []
        paired_targets: set[str] = set()
        # Unlinked targets, by each match rule's key.
        index: dict[tuple[str, Any], list[Any]] = {}
        for target in tgt.resources.values():
            if links.source_of(target.id) is None:
                for key in _keys(rules, model, target):
                    index.setdefault(key, []).append(target)
        pending_forward = self.pending.setdefault(f"{kind}:forward", {})
        pending_backward = self.pending.setdefault(f"{kind}:backward", {})

        for source in src.resources.values():
            target_id = links.target_of(source.id)
            if target_id is not None and target_id in tgt.resources:
                paired_targets.add(target_id)
                target = tgt.resources[target_id]
                actions += self._updates(model, source, target, forward_ids, backward_ids)
                continue
            if target_id is not None and target_id in tgt.gone and rules.two_way:
                removal = _removal(rules, model, source, "backward")
                actions += [removal] if removal else []
                continue
            if target_id is not None and target_id not in tgt.gone:
                continue  # linked, its counterpart not read (an incremental run): nothing known
            candidates: list[Any] = []
            for key in _keys(rules, model, source):
                candidates = [t for t in index.get(key, []) if t.id not in paired_targets]
                if candidates:
                    break
            if len(candidates) > 1:
                if match.on_several == "fail":
                    raise ValueError(
                        f"{kind} {_label(source)!r} matches {len(candidates)} resources of the"
                        " target; the match rule says to fail"
                    )
                shown = ", ".join(sorted(_label(c) for c in candidates))
                actions.append(
                    Action(
                        "conflict",
                        "forward",
                        model,
                        _label(source),
                        source,
                        None,
                        f"matches {len(candidates)} in the target: {shown}",
                    )
                )
                paired_targets.update(c.id for c in candidates)
                continue
            if candidates:
                target = candidates[0]
                paired_targets.add(target.id)
                pending_forward[source.id] = target.id  # linked by this plan
                pending_backward[target.id] = source.id
                actions += self._updates(
                    model, source, target, forward_ids, backward_ids, adopt=True
                )
                continue
            if match.on_no_match == "create":
                pending_forward[source.id] = f"(new {_label(source)})"
                actions.append(Action("create", "forward", model, _label(source), source))

        for target in tgt.resources.values():
            if target.id in paired_targets:
                continue
            source_id = links.source_of(target.id)
            if source_id is not None:
                if source_id in src.gone:
                    removal = _removal(rules, model, target, "forward")
                    actions += [removal] if removal else []
                continue
            if rules.two_way:
                if match.on_no_match == "create":
                    pending_backward[target.id] = f"(new {_label(target)})"
                    actions.append(Action("create", "backward", model, _label(target), target))
            elif rules.prune:
                removal = _removal(rules, model, target, "forward")
                actions += [removal] if removal else []
        actions.sort(key=lambda a: _ORDER[a.verb])
        return actions

    def _updates(
        self,
        model: type[Any],
        source: Any,
        target: Any,
        forward_ids: Callable[[str], str | None],
        backward_ids: Callable[[str], str | None],
        *,
        adopt: bool = False,
    ) -> list[Action]:
        found = []
        forward = _update(self.rules, model, source, target, "forward", forward_ids, adopt=adopt)
        if forward is not None:
            found.append(forward)
        if self.rules.two_way:
            backward = _update(
                self.rules, model, target, source, "backward", backward_ids, adopt=False
            )
            if backward is not None:
                found.append(backward)
        return found


def make_plan(
    source: Endpoint,
    target: Endpoint,
    rules: Rules,
    state: SyncState,
    models: Iterable[type[Any]],
    *,
    full: bool | None,
    changes: Mapping[str, Iterable[str]] | None = None,
) -> Plan:
    """The :class:`Plan` of one run (see the module docstring)."""
    planner = _Planner(rules, state, source, target)
    incremental = full is not True
    actions: list[Action] = []
    marks: dict[tuple[str, Side], datetime.datetime] = {}
    population: dict[str, int] = {}
    any_complete = False
    for model in models:
        kind = kind_of(model)
        kind_changes = None if changes is None else list(changes.get(kind, ()))
        found, kind_marks, linked, complete = planner.plan_type(model, incremental, kind_changes)
        actions += found
        marks.update(kind_marks)
        population[kind] = linked
        any_complete = any_complete or complete
    mode: Literal["full", "incremental"] = "full" if any_complete else "incremental"
    return Plan(source.name, target.name, mode, tuple(actions), population, marks)
