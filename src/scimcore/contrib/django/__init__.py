"""SCIM on a Django model: :class:`DjangoStore` (the ``django`` extra).

The store takes the host model and a :class:`scimcore.mapping.AttributeMap`;
filters become ``Q`` objects (:class:`QRenderer`) and sorts annotations, run
by the model's database. Mount it with a view as docs/serving.md shows
(docs/own-table.md has the whole recipe).
"""

from scimcore.contrib.django._render import QRenderer
from scimcore.contrib.django._store import DjangoStore
from scimcore.contrib.django._urls import scim_urls, scim_view

__all__ = ["DjangoStore", "QRenderer", "scim_urls", "scim_view"]
