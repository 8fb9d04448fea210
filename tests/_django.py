"""Django's settings for the whole test process, configured once (Django allows one configure).

The mounting recipe of docs/serving.md (tests/service/test_frameworks.py) needs its URLs; the
DjangoStore tests (tests/contrib) need databases: a SQLite file and a PostgreSQL schema of this
process's own. Either test module may come first, so both configure through here.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import urllib.parse
from pathlib import Path

#: The PostgreSQL schema of this process's Django tables (created by the tests that use it).
POSTGRES_SCHEMA = f"scim_test_django_{secrets.token_hex(6)}"


def configure() -> None:
    """Configure Django for this process, once."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    dsn = os.environ.get("SCIMCORE_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
    url = urllib.parse.urlsplit(dsn)
    directory = Path(tempfile.mkdtemp(prefix="scimcore-django-"))
    settings.configure(
        DEBUG=False,
        SECRET_KEY="not-a-secret",
        ROOT_URLCONF="tests.service.test_frameworks",
        ALLOWED_HOSTS=["testserver"],
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(directory / "host.sqlite3"),
            },
            "postgres": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": url.path.lstrip("/"),
                "USER": url.username or "",
                "PASSWORD": url.password or "",
                "HOST": url.hostname or "",
                "PORT": str(url.port or ""),
                "OPTIONS": {"options": f"-c search_path={POSTGRES_SCHEMA}"},
            },
        },
    )
    django.setup()
