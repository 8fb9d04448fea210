"""Stores over a host's own tables, one subpackage per ORM (each an optional extra).

- :mod:`scimcore.contrib.sqlalchemy`: :class:`~scimcore.contrib.sqlalchemy.MappedStore`
  on a SQLAlchemy 2.x mapped class (``pip install "scimcore[sqlalchemy]"``);
- :mod:`scimcore.contrib.django`: :class:`~scimcore.contrib.django.DjangoStore` on a
  Django model (``pip install "scimcore[django]"``).

Both read the host's columns through a :class:`scimcore.mapping.AttributeMap` and
push filters and sorts down to the database as the ORM's own expressions.
"""
