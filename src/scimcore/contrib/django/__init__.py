"""SCIM on a Django model: :class:`DjangoStore` (the ``django`` extra).

The store takes the host model and a :class:`scimcore.mapping.AttributeMap`;
filters become ``Q`` objects (:class:`QRenderer`) and sorts annotations, run
by the model's database. Case-insensitive text is compared through
``scimcore_fold()`` (:class:`Fold`): SQLite connections get it as Django opens
them, PostgreSQL from the migration operation :class:`InstallFold` (or
:func:`install_fold`). Mount it with a view as docs/serving.md shows
(docs/own-table.md has the whole recipe).
"""

from scimcore.contrib.django._fold import Fold, InstallFold, install_fold
from scimcore.contrib.django._render import QRenderer
from scimcore.contrib.django._store import DjangoStore
from scimcore.contrib.django._urls import scim_urls, scim_view

__all__ = [
    "DjangoStore",
    "Fold",
    "InstallFold",
    "QRenderer",
    "install_fold",
    "scim_urls",
    "scim_view",
]
