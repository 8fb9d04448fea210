"""SCIM on a Django project's own users: DjangoStore against django-scim2, same table and requests.

Both serve the same ``Person`` table (Django's ``AbstractUser`` with django-scim2's
``scim_*`` columns, 100,000 users, ``scim_username`` indexed for both) through Django's
request handling (the test client, in process): scimcore's view
(``scimcore.contrib.django.scim_urls``, a bearer token) against django-scim2 0.23's
(``django_scim.urls``, a middleware setting ``request.user``). Cases: ``GET /Users/<id>``
and ``GET /Users?filter=userName eq "…"`` (targets ≥3× the requests per second).
A third row is Django's own floor: a view returning a fixed 600-byte JSON body through
the same stack (its ratio is the share of a GET by id that is Django's, not scimcore's).
"""

import os
import sys
import time
import types
from pathlib import Path
from typing import Any

from _harness import Case

N = 100_000
DATA_VERSION = 2  # 2: the index is on scimcore_fold(scim_username)
CACHE = (
    Path(os.environ.get("SCIMCORE_BENCH_DIR", "/tmp"))
    / f"scimcore-bench-django-{N}-v{DATA_VERSION}.sqlite3"
)
TOKEN = "bench-token"
#: The floor's body: a 600-byte JSON document, about the size of a user's.
FIXED = (
    b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"padding":"' + b"x" * 529 + b'"}'
)


def _configure() -> None:
    import django
    from django.conf import settings

    sys.path.insert(0, str(Path(__file__).parent))
    urls = types.ModuleType("bench_django_urls")
    sys.modules["bench_django_urls"] = urls
    support = types.ModuleType("bench_django_support")
    support.always = lambda user: True  # type: ignore[attr-defined]
    support.Principal = _Principal  # type: ignore[attr-defined]
    sys.modules["bench_django_support"] = support
    settings.configure(
        DEBUG=False,
        SECRET_KEY="not-a-secret",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django_scim",
            "benchhost",
        ],
        AUTH_USER_MODEL="benchhost.Person",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(CACHE)}},
        MIDDLEWARE=[
            "bench_django_support.Principal",
            "django_scim.middleware.SCIMAuthCheckMiddleware",
        ],
        ROOT_URLCONF="bench_django_urls",
        SCIM_SERVICE_PROVIDER={
            "NETLOC": "testserver",
            "GET_IS_AUTHENTICATED_PREDICATE": "bench_django_support.always",
            "EXPOSE_SCIM_EXCEPTIONS": True,
        },
        LOGGING_CONFIG=None,
    )
    django.setup()


class _Principal:
    """Middleware: the request is authenticated (as a token middleware would say)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        request.user = types.SimpleNamespace(is_authenticated=True)
        return self.get_response(request)


def _build() -> None:
    from benchhost.models import Person
    from django.core.management import call_command

    start = time.perf_counter()
    call_command("migrate", run_syncdb=True, verbosity=0)
    batch = []
    for i in range(N):
        name = f"user{i:06d}@example.com"
        batch.append(
            Person(
                username=name,
                scim_username=name,
                scim_id=f"{i:08d}-0000-4000-8000-000000000000",
                first_name=f"Given{i % 997}",
                last_name=f"family{i % 500:03d}",
                email=name,
                is_active=i % 2 == 0,
                password="!",
            )
        )
        if len(batch) == 5000:
            Person.objects.bulk_create(batch)
            batch = []
    print(f"   Django host table built in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def cases() -> list[Case]:
    """The two comparisons (building the table first)."""
    fresh = not CACHE.exists()
    _configure()
    if fresh:
        _build()
    from benchhost.models import Person
    from django.http import HttpResponse
    from django.test import Client
    from django.urls import include, re_path

    from scimcore.contrib.django import DjangoStore, scim_urls
    from scimcore.mapping import AttributeMap
    from scimcore.models import User
    from scimcore.service import ScimService

    people = AttributeMap(
        User,
        {
            "userName": "scim_username",
            "externalId": "scim_external_id",
            "name.givenName": "first_name",
            "name.familyName": "last_name",
            'emails[type eq "work"].value': "email",
            "active": "is_active",
        },
        version="version",
    )
    service = ScimService(DjangoStore(Person, people), resource_types=[User], tokens=[TOKEN])
    sys.modules["bench_django_urls"].urlpatterns = [  # type: ignore[attr-defined]
        *scim_urls(service, "ours/v2"),
        re_path(r"^theirs/v2/", include("django_scim.urls", namespace="scim")),
        re_path(r"^floor/(?P<path>.*)$", lambda request, path: HttpResponse(FIXED)),
    ]
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    person = Person.objects.get(scim_username="user054321@example.com")
    lookup = 'filter=userName eq "user054321@example.com"'

    def ours_get() -> Any:
        return client.get(f"/ours/v2/Users/{person.pk}", **auth)

    def theirs_get() -> Any:
        return client.get(f"/theirs/v2/Users/{person.scim_id}")

    def ours_find() -> Any:
        return client.get(f"/ours/v2/Users?{lookup}", **auth)

    def theirs_find() -> Any:
        return client.get(f"/theirs/v2/Users?{lookup}")

    def floor() -> Any:
        return client.get(f"/floor/Users/{person.pk}", **auth)

    for ours, theirs in ((ours_get, theirs_get), (ours_find, theirs_find)):
        mine, peer = ours(), theirs()
        assert mine.status_code == peer.status_code == 200, (mine.content, peer.content)
    assert ours_find().json()["totalResults"] == theirs_find().json()["totalResults"] == 1
    assert len(floor().content) == len(FIXED) == 600
    return [
        Case(
            "GET /Users/<id>, 100k Django users: DjangoStore vs django-scim2",
            ours_get,
            theirs_get,
            peer_name="django-scim2 0.23.0",
            target=3,
            number=200,
        ),
        Case(
            'GET /Users?filter=userName eq "…", 100k Django users',
            ours_find,
            theirs_find,
            peer_name="django-scim2 0.23.0",
            target=3,
            number=200,
        ),
        Case(
            "GET /Users/<id> against Django's floor (a fixed JSON view)",
            ours_get,
            floor,
            peer_name="fixed 600-byte JSON view",
            number=200,
        ),
    ]
