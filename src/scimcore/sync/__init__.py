"""Two-way synchronisation: plan, review, apply; nothing lost, nothing deleted by surprise.

:class:`Sync` reconciles a source and a target, each a
:class:`~scimcore.storage.ResourceStore` (memory, SQLite, PostgreSQL, a mapped store) or a
SCIM server through :class:`scimcore.client.Client`, both behind one small :class:`Endpoint`
protocol. :class:`Rules` say how resources are matched (:class:`Match`), which side owns each
attribute, what a removal becomes and the :class:`DeletionThreshold`. :meth:`Sync.plan` gives a
:class:`Plan` that prints for review; :meth:`Sync.apply` writes it, idempotently, keeping links
and marks in a :class:`SyncState` (a SQLite file) so that a run killed half-way is finished by
the next. :class:`ChangeFeed` is the service hook that pushes a server's own writes to the same
engine as they are committed.

>>> from scimcore.models import User
>>> from scimcore.stores import MemoryStore
>>> hr, app = MemoryStore(), MemoryStore()
>>> _ = hr.create(User(user_name="bjensen", title="Guide"))
>>> plan, report = Sync(hr, app).run()
>>> report.ok, [u.title for u in StoreEndpoint(app).read(User)]
(True, ['Guide'])

See ``docs/sync.md`` for the failure modes and what the engine does in each.
"""

from scimcore.sync._endpoint import ClientEndpoint, Endpoint, StoreEndpoint, as_endpoint
from scimcore.sync._engine import Failure, Report, Sync, ThresholdExceeded, print_progress
from scimcore.sync._feed import ChangeFeed
from scimcore.sync._plan import Action, Plan
from scimcore.sync._rules import DeletionThreshold, Match, Rules
from scimcore.sync._state import Links, StateMismatch, SyncState

__all__ = [
    "Action",
    "ChangeFeed",
    "ClientEndpoint",
    "DeletionThreshold",
    "Endpoint",
    "Failure",
    "Links",
    "Match",
    "Plan",
    "Report",
    "Rules",
    "StateMismatch",
    "StoreEndpoint",
    "Sync",
    "SyncState",
    "ThresholdExceeded",
    "as_endpoint",
    "print_progress",
]
