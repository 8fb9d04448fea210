"""PATCH (RFC 7644 §3.5.2): apply a ``PatchOp`` to a typed resource, purely and atomically.

:func:`apply_patch` returns the patched resource; :func:`patch_result` also says
whether anything changed and what each multi-valued attribute gained and lost.
Identity-provider deviations are accepted or refused by a :class:`~scimcore.Policy`.
:func:`plan_patch` goes the other way: the smallest PATCH from one resource to another.

>>> from scimcore.models import User
>>> from scimcore.patch import apply_patch
>>> user = User(user_name="bjensen")
>>> apply_patch(user, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
...     "Operations": [{"op": "add", "path": "name.givenName", "value": "Barbara"}]}).name
Name(formatted=None, family_name=None, given_name='Barbara', middle_name=None, \
honorific_prefix=None, honorific_suffix=None)
"""

from scimcore.patch._engine import apply_patch, patch_result
from scimcore.patch._plan import PlanPolicy, plan_patch
from scimcore.patch._request import PATCH_OP_SCHEMA
from scimcore.patch._result import PatchResult
from scimcore.patch._touched import touched_values

__all__ = [
    "PATCH_OP_SCHEMA",
    "PatchResult",
    "PlanPolicy",
    "apply_patch",
    "patch_result",
    "plan_patch",
    "touched_values",
]
