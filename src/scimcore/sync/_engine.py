"""Applying a plan, and :class:`Sync`, the engine a host or ``scimcore sync`` runs.

Every action is idempotent, so a run killed half-way is finished by running again: the links it
made were committed to the state file one by one, and the next plan, made afresh from both ends,
holds only what is still to do. Failures are the ends' answers and connection errors:

- a create answered ``409`` (a unique value is taken): the resource is looked up by its match
  rules and, found once, adopted (linked, then updated) instead of created twice;
- a create whose connection dropped (the server may have acted on it): looked up the same way
  before it is tried again, so a lost answer never becomes a duplicate;
- an update that finds the resource changed (``412``) or whose connection dropped: the resource
  is read again and the delta planned again (a PATCH of the same delta is idempotent);
- ``429`` and ``503``: the client's retries (after ``Retry-After``, or a back-off);
- anything else: the action is reported failed, the run goes on, the marks stay where they were
  so the next incremental run reads the same changes again.
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import attrs

from scimcore.codecs import v2
from scimcore.errors import NotFound, PreconditionFailed, ScimError, Uniqueness
from scimcore.models import Group, User
from scimcore.sync._endpoint import BulkCreates, Endpoint, as_endpoint
from scimcore.sync._plan import (
    REMOVALS,
    Action,
    Direction,
    Plan,
    _lookups,
    create_copy,
    desired_copy,
    kind_of,
    make_plan,
    member_ids,
)
from scimcore.sync._rules import Rules, attribute_value, unique_attributes
from scimcore.sync._state import Links, SyncState

__all__ = ["Failure", "Report", "Sync", "ThresholdExceeded", "print_progress"]

#: How many times an update is re-read and re-planned after a conflict or a dropped connection.
ATTEMPTS = 3
#: A run stops after this many failures in a row (the other end is down, not one resource bad).
MAX_FAILURES_IN_A_ROW = 20


class ThresholdExceeded(Exception):
    """A plan removes more than the deletion threshold allows: nothing was written."""


def _transport_error() -> tuple[type[BaseException], ...]:
    try:
        from scimcore.client import TransportError
    except ImportError:  # no client extra: no connections to drop
        return ()
    return (TransportError,)


@attrs.frozen
class Failure:
    """An action that failed, and why."""

    action: Action
    error: str

    def __str__(self) -> str:
        return f"{self.action.verb} {self.action.kind} {self.action.label!r}: {self.error}"


@attrs.define
class Report:
    """What a run did: per ``(kind, verb, direction)`` the actions done, and the failures."""

    done: Counter[tuple[str, str, str]] = attrs.field(factory=Counter)
    failures: list[Failure] = attrs.field(factory=list)
    conflicts: list[Action] = attrs.field(factory=list)
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """Whether everything planned was done (conflicts are not failures)."""
        return not self.failures and self.stopped is None

    def count(self, verb: str, kind: str | None = None) -> int:
        """How many ``verb`` actions (of ``kind``) were done."""
        return sum(n for (k, v, _), n in self.done.items() if v == verb and kind in (None, k))

    def table(self) -> str:
        """The summary table ``scimcore sync`` prints."""
        verbs = ("create", "link", "update", "deactivate", "delete")
        rows = sorted(
            {(k, d) for k, _, d in self.done}
            | {(f.action.kind, f.action.direction) for f in self.failures}
        )
        header = f"{'type':<6} {'to':<7}" + "".join(f"{v:>11}" for v in verbs) + f"{'failed':>8}"
        lines = [header] if rows else ["nothing written"]
        for kind, direction in rows:
            to = {"forward": "target", "backward": "source"}.get(direction, "-")
            failed = sum(
                1 for f in self.failures if (f.action.kind, f.action.direction) == (kind, direction)
            )
            cells = "".join(f"{self.done[(kind, v, direction)]:>11}" for v in verbs)
            lines.append(f"{kind:<6} {to:<7}{cells}{failed:>8}")
        if self.conflicts:
            lines.append(f"{len(self.conflicts)} conflict(s), nothing written for them:")
            lines += [f"  {a.kind} {a.label!r}: {a.detail}" for a in self.conflicts]
        if self.failures:
            lines.append(f"{len(self.failures)} failure(s):")
            lines += [f"  {f}" for f in self.failures]
        if self.stopped:
            lines.append(f"stopped: {self.stopped}")
        return "\n".join(lines)


class Sync:
    """Reconcile a source and a target: :meth:`plan`, review, :meth:`apply` (or :meth:`run`).

    ``source`` and ``target`` are each a :class:`~scimcore.storage.ResourceStore`, a
    :class:`scimcore.client.Client` or an :class:`Endpoint`; ``rules`` say how (see
    :class:`Rules`); ``state`` is where links and marks are kept: a
    :class:`SyncState`, or a path to its SQLite file (``":memory:"``: forgotten at the end).

    >>> from scimcore.models import User
    >>> from scimcore.stores import MemoryStore
    >>> hr, app = MemoryStore(), MemoryStore()
    >>> _ = hr.create(User(user_name="bjensen", title="Guide"))
    >>> sync = Sync(hr, app)
    >>> plan = sync.plan()
    >>> print(plan)
    full sync MemoryStore → MemoryStore: 1 create
      create     User  'bjensen' → target
    >>> sync.apply(plan).count("create")
    1
    >>> print(sync.plan())
    incremental sync MemoryStore → MemoryStore: nothing to do
    """

    def __init__(
        self,
        source: Any,
        target: Any,
        *,
        rules: Rules | None = None,
        state: SyncState | str | Path = ":memory:",
        models: Iterable[type[Any]] = (User, Group),
    ) -> None:
        self.source: Endpoint = as_endpoint(source)
        self.target: Endpoint = as_endpoint(target)
        self.rules = rules or Rules()
        self.state = state if isinstance(state, SyncState) else SyncState(state)
        self.state.bind(self.source.name, self.target.name)
        self.models = tuple(models)
        self._transport: tuple[type[BaseException], ...] = _transport_error()
        self._failures: tuple[type[BaseException], ...] = (ScimError, *self._transport)
        self._retried: tuple[type[BaseException], ...] = (PreconditionFailed, *self._transport)
        self._links: dict[str, Links] = {}  # the state file's links, as apply changes them

    def close(self) -> None:
        """Close the state file."""
        self.state.close()

    def __enter__(self) -> Sync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ planning

    def plan(
        self, *, full: bool | None = None, changes: Mapping[str, Iterable[str]] | None = None
    ) -> Plan:
        """What a run would write. ``full=None``: incremental when the state file has marks,
        full otherwise; ``changes`` (resource type → source ids, from :class:`ChangeFeed`)
        plans only those resources."""
        return make_plan(
            self.source,
            self.target,
            self.rules,
            self.state,
            self.models,
            full=full,
            changes=changes,
        )

    # ------------------------------------------------------------------ applying

    def check(self, plan: Plan) -> None:
        """Raise :class:`ThresholdExceeded` when ``plan`` removes more than the threshold."""
        for kind, population in plan.population.items():
            removals = plan.removals(kind)
            reason = self.rules.threshold.exceeded(removals=removals, population=population)
            if reason is not None:
                raise ThresholdExceeded(
                    f"{kind}: {reason}; nothing was written (raise the threshold, or apply"
                    " with force=True / --force, after reviewing the plan)"
                )

    def apply(
        self,
        plan: Plan,
        *,
        force: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> Report:
        """Write ``plan``: Users before Groups, removals last; see the module docstring.

        Checks the deletion threshold first (unless ``force``): over it, nothing is written.
        ``progress(done, total)`` is called after each action.
        """
        if not force:
            self.check(plan)
        report = Report()
        run = self.state.start_run(plan.mode)
        kinds = [kind_of(m) for m in self.models]
        ordered = sorted(
            plan.actions,
            key=lambda a: (a.verb in REMOVALS, kinds.index(a.kind) if a.kind in kinds else 99),
        )
        self._links = {}
        in_a_row = 0
        done = 0
        for batch in self._batches(ordered):
            for action, error in self._apply_batch(batch):
                done += 1
                if error is None:
                    in_a_row = 0
                    if action.verb == "conflict":
                        report.conflicts.append(action)
                    else:
                        report.done[(action.kind, action.verb, action.direction)] += 1
                else:
                    report.failures.append(Failure(action, _reason(error)))
                    in_a_row += 1
                if progress is not None:
                    progress(done, len(ordered))
            if in_a_row >= MAX_FAILURES_IN_A_ROW:
                last = report.failures[-1].error
                report.stopped = f"{in_a_row} failures in a row; the last: {last}"
                break
        if report.ok:
            for (kind, side), when in plan.marks.items():
                self.state.set_mark(kind, side, when)
        counts = {f"{k}.{v}.{d}": n for (k, v, d), n in report.done.items()}
        self.state.finish_run(run, "ok" if report.ok else "failed", counts)
        return report

    def run(
        self,
        *,
        full: bool | None = None,
        dry_run: bool = False,
        force: bool = False,
        out: TextIO | None = None,
    ) -> tuple[Plan, Report]:
        """Plan, print the plan to ``out`` (when given), and apply it unless ``dry_run``."""
        plan = self.plan(full=full)
        if out is not None:
            print(plan, file=out)
        if dry_run:
            return plan, Report()
        return plan, self.apply(plan, force=force)

    # ------------------------------------------------------------------ batches

    def _batches(self, actions: list[Action]) -> Iterator[list[Action]]:
        """The actions in order: runs of creates of one type cut to the written end's bulk
        size (when it creates in bulk), every other action alone."""
        batch: list[Action] = []
        for action in actions:
            size = self._bulk_size(action)
            if batch and (
                size <= 1
                or len(batch) >= size
                or (batch[0].kind, batch[0].direction) != (action.kind, action.direction)
            ):
                yield batch
                batch = []
            if size <= 1:
                yield [action]
            else:
                batch.append(action)
        if batch:
            yield batch

    def _bulk_size(self, action: Action) -> int:
        if action.verb != "create":
            return 0
        _, written = self._ends(action.direction)
        return written.bulk_size() if isinstance(written, BulkCreates) else 0

    def _apply_batch(self, batch: list[Action]) -> Iterator[tuple[Action, BaseException | None]]:
        """Each action of ``batch`` and the error it failed with (``None``: done)."""
        if len(batch) > 1:
            yield from self._bulk_create(batch)
            return
        (action,) = batch
        try:
            self._do(action)
        except self._failures as error:
            yield action, error
        else:
            yield action, None

    def _bulk_create(self, batch: list[Action]) -> Iterator[tuple[Action, BaseException | None]]:
        _, written = self._ends(batch[0].direction)
        assert isinstance(written, BulkCreates)
        ids = self._ids(batch[0].direction)
        resources = [create_copy(self.rules, a.origin, ids) for a in batch]
        try:
            outcomes = written.create_many(resources)
        except self._failures:
            # No answer for the whole request (some may have been created): one by one,
            # each looked up first.
            for action in batch:
                try:
                    self._create(action, look_first=True)
                except self._failures as error:
                    yield action, error
                else:
                    yield action, None
            return
        created = [(a, o) for a, o in zip(batch, outcomes, strict=True) if isinstance(o, str)]
        self._link_many(created)
        for action, _ in created:
            yield action, None
        for action, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, str):
                continue
            try:
                if isinstance(outcome, Uniqueness):
                    if not self._adopt(action):
                        raise outcome
                elif isinstance(outcome, BaseException):
                    raise outcome
                else:  # not sent (the server stopped the request): alone
                    self._create(action, look_first=True)
            except self._failures as error:
                yield action, error
            else:
                yield action, None

    # ------------------------------------------------------------------ one action

    def _ends(self, direction: Direction) -> tuple[Endpoint, Endpoint]:
        """(origin end, written end)."""
        if direction == "forward":
            return self.source, self.target
        return self.target, self.source

    def _link(self, action: Action, origin_id: str, written_id: str) -> None:
        source_id, target_id = (
            (origin_id, written_id) if action.direction == "forward" else (written_id, origin_id)
        )
        self.state.link(action.kind, source_id, target_id)
        self._links_of(action.kind).add(source_id, target_id)

    def _link_many(self, created: list[tuple[Action, str]]) -> None:
        """Link the resources of one bulk request (one kind, one direction) at once."""
        if not created:
            return
        first = created[0][0]
        forward = first.direction == "forward"
        pairs = [
            (a.origin.id, new_id) if forward else (new_id, a.origin.id) for a, new_id in created
        ]
        self.state.link_many(first.kind, pairs)
        links = self._links_of(first.kind)
        for source_id, target_id in pairs:
            links.add(source_id, target_id)

    def _links_of(self, kind: str) -> Links:
        if kind not in self._links:
            self._links[kind] = self.state.links(kind)
        return self._links[kind]

    def _ids(self, direction: Direction) -> Callable[[str], str | None]:
        return member_ids([self._links_of(kind_of(m)) for m in self.models], direction)

    def _do(self, action: Action) -> None:
        if action.verb == "create":
            self._create(action)
        elif action.verb in ("update", "link"):
            self._link(action, action.origin.id, action.current.id)
            if action.verb == "update":
                self._update(action, action.current)
        elif action.verb == "deactivate":
            _, written = self._ends(action.direction)
            current = action.current
            for attempt in range(ATTEMPTS):
                try:
                    written.update(current, attrs.evolve(current, active=False))
                    return
                except self._retried:
                    if attempt == ATTEMPTS - 1:
                        raise
                    current = written.get(action.model, current.id)
                    if current is None:
                        return
        elif action.verb == "delete":
            _, written = self._ends(action.direction)
            with contextlib.suppress(NotFound):  # gone already: what was wanted
                written.delete(action.model, action.current.id)
            if action.direction == "forward":
                self.state.unlink(action.kind, target_id=action.current.id)
                self._links_of(action.kind).drop(target_id=action.current.id)
            else:
                self.state.unlink(action.kind, source_id=action.current.id)
                self._links_of(action.kind).drop(source_id=action.current.id)

    def _update(self, action: Action, current: Any) -> None:
        _, written = self._ends(action.direction)
        for attempt in range(ATTEMPTS):
            desired = desired_copy(
                self.rules, action.origin, current, action.direction, self._ids(action.direction)
            )
            try:
                written.update(current, desired)
                return
            except self._retried:
                if attempt == ATTEMPTS - 1:
                    raise
                again = written.get(action.model, current.id)
                if again is None:
                    raise NotFound(
                        f"{action.kind} {action.label!r} was deleted meanwhile"
                    ) from None
                current = again

    def _create(self, action: Action, *, look_first: bool = False) -> None:
        _, written = self._ends(action.direction)
        origin = action.origin
        if look_first and self._adopt(action):
            return
        resource = create_copy(self.rules, origin, self._ids(action.direction))
        for attempt in range(ATTEMPTS):
            try:
                created = written.create(resource)
            except Uniqueness:
                if self._adopt(action):
                    return
                raise
            except self._transport:
                # The server may have created it before the connection dropped: look first.
                if self._adopt(action):
                    return
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            self._link(action, origin.id, created.id)
            return

    def _adopt(self, action: Action) -> bool:
        """Find the counterpart of a create by the match rules; link and update it if one."""
        _, written = self._ends(action.direction)
        found: dict[str, Any] = {}
        lookups = _lookups(self.rules, action.model, action.origin)
        document = v2.encode(action.origin, full=True)
        for path in unique_attributes(action.model):  # what a 409 is about
            value = attribute_value(document, path)
            if value not in (None, "") and (path, value) not in lookups:
                lookups.append((path, value))
        for path, value in lookups:
            for resource in written.find(action.model, path, value):
                found.setdefault(resource.id, resource)
            if found:
                break
        if len(found) != 1:
            return False
        (current,) = found.values()
        self._link(action, action.origin.id, current.id)
        self._update(action, current)
        return True


def _reason(error: BaseException) -> str:
    status = getattr(error, "status", None)
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{status} {text}" if isinstance(status, int) else f"{type(error).__name__}: {text}"


def print_progress(stream: TextIO = sys.stderr) -> Callable[[int, int], None]:
    """A ``progress`` callback drawing ``done/total`` on one line of a terminal."""

    def show(done: int, total: int) -> None:
        stream.write(f"\r{done}/{total} ({done * 100 // max(total, 1)}%)")
        if done == total:
            stream.write("\n")
        stream.flush()

    return show
