"""The PATCH planner: the smallest ``PatchOp`` that turns one resource into another.

:func:`plan_patch` compares two typed resources attribute by attribute (the
schema says which: ``readOnly`` ones are never written) and writes:

- a singular attribute: ``replace`` with the new value, or ``remove`` when it is gone;
- a singular complex attribute: one ``replace``/``remove`` per changed
  sub-attribute (``name.givenName``), or the whole value when one side has none;
- a multi-valued attribute: the *delta* whenever it is exact: one
  ``remove`` per value gone (``members[value eq "…"]``, or a ``value`` list
  when the target rejects filter paths) and one ``add`` of the new values; else
  one ``replace`` of the whole list. The delta is used only when the new list
  is the old one minus the removed values, then the added ones, in that order,
  and every removed value is the only one with its ``value``;
- extension attributes by their full path (``urn:…:User:employeeNumber``).

Property: ``apply_patch(old, plan_patch(old, new)) == new`` whenever ``new`` only
differs from ``old`` in writable attributes (readOnly sub-attributes such as
``manager.displayName`` included) and holds no empty complex value or extension (one
whose every sub-attribute is unassigned is an unassigned value, RFC 7643 §2.5: PATCH
cannot write it). An empty plan means "no change" (``apply_patch`` refuses an empty
``Operations``: send nothing).
"""

from __future__ import annotations

from typing import Any

import attrs

from scimcore.codecs.v2 import encode_value
from scimcore.filter import AttrPath, Compare, PatchPath
from scimcore.models import PatchOp, PatchOperation
from scimcore.schema import Attribute, MutabilityKind

__all__ = ["PlanPolicy", "plan_patch"]


@attrs.frozen
class PlanPolicy:
    """How the target server wants its PATCH requests.

    - ``value_filters``: remove values with a filter path
      (``members[value eq "…"]``); when false, with ``{"op": "remove", "path":
      "members", "value": [{"value": "…"}]}`` (Entra's form, for servers that
      reject filter paths).
    - ``deltas``: multi-valued changes as removes and adds; when false, a
      ``replace`` of the whole list.
    - ``patch``: when false the server has no PATCH, and
      :meth:`scimcore.client.Client.update` sends a ``PUT`` instead.

    >>> PlanPolicy().value_filters, PlanPolicy(deltas=False).deltas
    (True, False)
    """

    value_filters: bool = True
    deltas: bool = True
    patch: bool = True


_DEFAULT = PlanPolicy()


def _op(op: str, path: str, value: Any = None) -> PatchOperation:
    return PatchOperation(op=op, path=path, value=value)


def _key(attribute: Attribute, value: Any) -> Any:
    key = getattr(value, "value", None)
    sub = attribute.sub_attribute("value")
    if isinstance(key, str) and sub is not None and not sub.case_exact:
        return key.casefold()
    return key


class _Planner:
    def __init__(self, model: type[Any], policy: PlanPolicy) -> None:
        self.model = model
        self.policy = policy
        self.ops: list[PatchOperation] = []

    def encode(self, value: Any, path: str) -> Any:
        return encode_value(value, self.model, path)

    def attribute(self, attribute: Attribute, path: str, old: Any, new: Any) -> None:
        if old == new:
            return
        if attribute.multi_valued:
            self.multi(attribute, path, old or [], new or [])
        elif attribute.is_complex and old is not None and new is not None:
            for sub in attribute.sub_attributes:
                if sub.mutability is MutabilityKind.READ_ONLY:
                    continue
                before = getattr(old, sub.python_name)
                after = getattr(new, sub.python_name)
                if before == after:
                    continue
                sub_path = f"{path}.{sub.name}"
                if after is None or after == []:
                    self.ops.append(_op("remove", sub_path))
                else:
                    self.ops.append(_op("replace", sub_path, self.encode(after, sub_path)))
        elif new is None:
            self.ops.append(_op("remove", path))
        else:
            self.ops.append(_op("replace", path, self.encode(new, path)))

    def multi(self, attribute: Attribute, path: str, old: list[Any], new: list[Any]) -> None:
        if not new:
            self.ops.append(_op("remove", path))
            return
        if self.policy.deltas and self.delta(attribute, path, old, new):
            return
        self.ops.append(_op("replace", path, self.encode(new, path)))

    def delta(self, attribute: Attribute, path: str, old: list[Any], new: list[Any]) -> bool:
        """Write the delta of a multi-valued complex attribute, if it is exact."""
        if not attribute.is_complex or attribute.sub_attribute("value") is None:
            return False
        keys_old = [_key(attribute, v) for v in old]
        if None in keys_old or len(set(keys_old)) != len(keys_old):
            return False
        by_key = dict(zip(keys_old, old, strict=True))
        kept: list[Any] = []
        added: list[Any] = []
        seen: set[Any] = set()
        for value in new:
            key = _key(attribute, value)
            if key is None or key in seen:
                return False
            seen.add(key)
            if by_key.get(key) == value:
                if added:  # an old value after a new one: not old-minus-removed + added
                    return False
                kept.append(value)
            elif key in by_key:  # the same value changed: no exact delta
                return False
            else:
                added.append(value)
        if [v for v in old if _key(attribute, v) in seen] != kept:
            return False
        removed = [v for v in old if _key(attribute, v) not in seen]
        if removed:
            if self.policy.value_filters:
                for value in removed:
                    where = Compare(AttrPath(None, "value", None), "eq", value.value)
                    target = PatchPath(_attr_path(path), where, None)
                    self.ops.append(_op("remove", str(target)))
            else:
                self.ops.append(_op("remove", path, [{"value": value.value} for value in removed]))
        if added:
            self.ops.append(_op("add", path, self.encode(added, path)))
        return True


def _attr_path(path: str) -> AttrPath:
    urn, sep, name = path.rpartition(":")
    return AttrPath(urn if sep else None, name, None)


def _writable(attributes: Any) -> list[Attribute]:
    return [a for a in attributes if a.mutability is not MutabilityKind.READ_ONLY]


def plan_patch(old: Any, new: Any, *, policy: PlanPolicy | None = None) -> PatchOp:
    """The PATCH request that makes ``old`` into ``new`` (two resources of one model).

    >>> from scimcore.models import Group, GroupMember
    >>> old = Group(display_name="Ops", members=[GroupMember(value=str(i)) for i in range(5)])
    >>> new = Group(display_name="Ops", members=[*old.members[1:], GroupMember(value="9")])
    >>> from scimcore.codecs.v2 import encode
    >>> encode(plan_patch(old, new))["Operations"]
    [{'op': 'remove', 'path': 'members[value eq "0"]'}, {'op': 'add', 'path': 'members',
     'value': [{'value': '9'}]}]
    >>> from scimcore.patch import apply_patch
    >>> apply_patch(old, plan_patch(old, new)) == new
    True
    """
    model = type(old)
    if type(new) is not model:
        raise TypeError(
            f"plan_patch needs two {model.__name__} resources, not {type(new).__name__}"
        )
    planner = _Planner(model, policy or _DEFAULT)
    common = {"id", "meta", "schemas"}
    if old.external_id != new.external_id:
        planner.attribute(
            model.scim_registry().resolve("externalId").target,
            "externalId",
            old.external_id,
            new.external_id,
        )
    for attribute in _writable(model.__scim_schema__.attributes):
        if attribute.python_name in common:
            continue
        name = attribute.python_name
        planner.attribute(attribute, attribute.name, getattr(old, name), getattr(new, name))
    for urn, extension in model.__scim_extensions__.items():
        before = old.extensions.get(urn)
        after = new.extensions.get(urn)
        if before == after:
            continue
        for attribute in _writable(extension.__scim_schema__.attributes):
            name = attribute.python_name
            planner.attribute(
                attribute,
                f"{urn}:{attribute.name}",
                None if before is None else getattr(before, name),
                None if after is None else getattr(after, name),
            )
    return PatchOp(operations=planner.ops)
