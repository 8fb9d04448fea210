"""StoreContract: the pytest suite that proves a store keeps the storage protocol.

A host with its own store (Django ORM, DynamoDB, LDAP…) subclasses
:class:`StoreContract` in its test suite and gives a ``store`` fixture that
returns a new, empty store keeping :class:`~scimcore.models.User` (with the
enterprise extension) and :class:`~scimcore.models.Group`::

    import pytest
    from scimcore.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            store = MyStore(tmp_path / "db")
            yield store
            store.close()

The suite checks CRUD, copies, versions and ``expected_version``, uniqueness,
threads writing at once, ``startIndex``/``count`` paging, RFC 9865 cursors
(stable while other threads write), sorting, searches over several resource
types, and *differential search*: for a long list of filters × sorts over
resources full of traps (mixed case, missing and empty values, ``%``, ``_``,
quotes, backslashes, Unicode that folds, multi-valued attributes), the store
returns exactly what the evaluator (:func:`scimcore.filter.compile_filter`)
selects; then a Hypothesis run does the same with generated filters and
resources. Class attributes switch parts off for a store that does not offer
them (``supports_cursors``, ``supports_sort``) and size the runs
(``hypothesis_examples``, ``threads``).

A host with an *async* store runs the same suite on ``BlockingStore(its_store)``.

pytest and Hypothesis must be installed; importing this module imports pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.errors import (
    InvalidCursor,
    InvalidFilter,
    InvalidValue,
    NotFound,
    PreconditionFailed,
    ScimError,
    Uniqueness,
)
from scimcore.models import Group, User
from scimcore.policy import Policy
from scimcore.schema import AttributeRef
from scimcore.storage import AsyncResourceStore, Page, Query, ResourceStore, update
from scimcore.storage._values import comparable

__all__ = [
    "DIFFERENTIAL_FILTERS",
    "DIFFERENTIAL_SORTS",
    "TRAP_GROUPS",
    "TRAP_USERS",
    "BlockingStore",
    "StoreContract",
    "expected_order_key",
    "filters_strategy",
    "users_strategy",
]

T = TypeVar("T")

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _user(user_name: str, **fields: Any) -> dict[str, Any]:
    schemas = [USER, ENTERPRISE] if ENTERPRISE in fields else [USER]
    return {"schemas": schemas, "userName": user_name, **fields}


#: Users full of traps, as wire JSON (RFC 7643 §4.1 shapes; ``bjensen`` from §8.2).
TRAP_USERS: tuple[dict[str, Any], ...] = (
    _user(
        "BJensen",
        externalId="bjensen",
        name={"familyName": "Jensen", "givenName": "Barbara", "formatted": "Ms. Barbara J Jensen"},
        displayName="Babs Jensen",
        title="Tour Guide",
        active=True,
        emails=[
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@jensen.org", "type": "home"},
        ],
        phoneNumbers=[{"value": "555-555-8377", "type": "work"}],
        x509Certificates=[{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
        **{
            ENTERPRISE: {
                "employeeNumber": "701984",
                "costCenter": "4130",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"},
            }
        },
    ),
    _user(
        "jsmith",
        externalId="ABC",
        title="",
        active=False,
        nickName="Johnny",
        emails=[{"value": "a@x.com", "type": "work"}, {"value": "j@EXAMPLE.com", "type": "home"}],
    ),
    _user(
        "alice",
        externalId="abc",
        title="50%_off",
        name={"givenName": "Alice"},
        emails=[{"value": "alice@example.org", "primary": False}],
    ),
    _user("Bob", title="50 percent", name={"familyName": "O'Brien"}, active=True),
    _user("carol", title="under_score", displayName='Say "hi"', nickName=""),
    _user("a%b", title="a\\b", displayName="back\\slash", emails=[{"value": "%@_.com"}]),
    _user("a_b", title="it's", name={}, emails=[]),
    _user("straße", displayName="STRASSE", title="Straße"),
    _user("Café", displayName="Cafe\u0301", title="café"),
    _user("ÉCOLE", displayName="école", title="ÉCOLE"),
    _user(
        "zoë",
        title="Zoe",
        active=False,
        addresses=[
            {"type": "work", "postalCode": "91608", "country": "US"},
            {"type": "home", "country": "fr"},
        ],
    ),
    _user("日本語", title="日本", displayName="ﬁle", nickName="ǅ"),
    _user('quote"d', title="'", displayName='"', externalId='q"d'),
    _user("percent%", title="%", displayName="_", externalId="%"),
    _user("under_", title="_", displayName="%", externalId="_"),
    _user(
        "emoji😀",
        title="😀",
        displayName="a😀b",
        emails=[{"value": "EMOJI@Example.COM", "type": "Work", "primary": True}],
    ),
    _user("minimal"),
    _user(
        "dup-emails",
        emails=[
            {"value": "same@x.com", "type": "work"},
            {"value": "same@x.com", "type": "home", "primary": True},
        ],
        **{ENTERPRISE: {"employeeNumber": "", "department": "R&D"}},
    ),
    _user("sw-identical", title="sw-identical", displayName="SW-IDENTICAL"),
)

#: Groups for searches over several resource types.
TRAP_GROUPS: tuple[dict[str, Any], ...] = (
    {
        "schemas": [GROUP],
        "displayName": "Admins",
        "externalId": "g1",
        "members": [{"value": "u-1", "type": "User"}, {"value": "u-2", "type": "User"}],
    },
    {"schemas": [GROUP], "displayName": "tour guides", "members": [{"value": "U-1"}]},
    {"schemas": [GROUP], "displayName": "50%_club", "members": []},
)

_EMP = f"{ENTERPRISE}:employeeNumber"

#: Filters the differential search runs (on Users unless listed with groups).
DIFFERENTIAL_FILTERS: tuple[str, ...] = (
    'userName eq "bjensen"',
    'userName eq "BJENSEN"',
    'userName ne "bjensen"',
    'userName co "%"',
    'userName co "_"',
    'userName sw "a_"',
    'userName sw "a%"',
    'userName ew "%"',
    'userName ew "_"',
    'userName co "\\""',
    'userName co "\'"',
    'userName sw ""',
    'userName ew ""',
    'userName co ""',
    'userName gt "m"',
    'userName le "b"',
    'userName ge "bjensen"',
    'userName lt "É"',
    'userName eq "STRASSE"',
    'userName eq "strasse"',
    'userName eq "CAFÉ"',
    'userName eq "Cafe\u0301"',
    'userName co "😀"',
    'userName sw "BJ"',
    'userName ew "SEN"',
    'userName co "ens"',
    'userName sw "bjensen"',
    "title pr",
    "not (title pr)",
    'title eq ""',
    'title ne ""',
    "title eq null",
    "title ne null",
    'title co "a"',
    'title co "%"',
    'title co "_"',
    'title co "\\\\"',
    'title eq "\'"',
    'title sw "50%"',
    'title sw "50_"',
    'title lt "z"',
    'title gt ""',
    'title eq "STRASSE"',
    'title eq "CAFÉ"',
    "nickName pr",
    'nickName ne "x"',
    'nickName eq "ǆ"',
    'displayName eq "FILE"',
    'displayName co "\\\\"',
    'displayName eq "\\""',
    'displayName eq "Café"',
    'externalId eq "ABC"',
    'externalId eq "abc"',
    'externalId sw "A"',
    'externalId co "%"',
    'externalId eq "_"',
    "externalId pr",
    "id pr",
    "active eq true",
    "active eq false",
    "active ne true",
    "active pr",
    "not (active eq true)",
    "active eq null",
    'emails.value co "example.com"',
    'emails co "example.com"',
    'emails.value ew ".ORG"',
    'emails.value eq "SAME@X.COM"',
    'emails.value sw "%"',
    'emails.type eq "work"',
    'emails.type ne "work"',
    'emails[type eq "work" and value co "example.com"]',
    'emails.type eq "work" and emails.value co "example.com"',
    'emails[type eq "work"]',
    'emails[not (type eq "work")]',
    'emails[type ne "work"]',
    "emails[primary eq true]",
    "emails[primary eq false]",
    "emails[primary pr]",
    "emails pr",
    "emails.value pr",
    "emails[value pr]",
    "not (emails pr)",
    "emails.primary eq true",
    "emails.primary ne true",
    'emails[type eq "work" or primary eq true]',
    'name.familyName eq "jensen"',
    'name.familyName co "\'"',
    "name.familyName pr",
    "name pr",
    "not (name pr)",
    'name[givenName eq "barbara"]',
    "name[not (givenName pr)]",
    'name.givenName sw "a"',
    'phoneNumbers.value eq "555-555-8377"',
    'addresses[type eq "work" and postalCode pr]',
    'addresses.country eq "us"',
    'addresses[country eq "FR" and type eq "work"]',
    'meta.created gt "2000-01-01T00:00:00Z"',
    'meta.created lt "2000-01-01T00:00:00Z"',
    'meta.lastModified ge "2000-01-01T00:00:00+02:00"',
    'meta.resourceType eq "User"',
    'meta.resourceType eq "user"',
    "meta.version pr",
    f'schemas eq "{ENTERPRISE}"',
    f'schemas eq "{ENTERPRISE.upper()}"',
    f'{_EMP} eq "701984"',
    f"{_EMP} pr",
    f"not ({_EMP} pr)",
    f'{ENTERPRISE}:manager.value eq "26118915-6090-4610-87E4-49D8CA9F808D"',
    f"{ENTERPRISE}:manager pr",
    f'{ENTERPRISE}:costCenter co "3"',
    f'{ENTERPRISE}:department eq "r&d"',
    'x509Certificates.value eq "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"',
    'nosuch eq "x"',
    "nosuch pr",
    'not (nosuch eq "x")',
    'nosuch ne "x"',
    'name.nosuch eq "x"',
    'emails[nosuch eq "x"]',
    'userName eq "bjensen" or userName eq "jsmith"',
    'userName sw "j" and not (title pr)',
    '(userName sw "a" or userName sw "b") and active eq true',
    'not (userName eq "bjensen" or active eq false)',
    'not (not (title co "a"))',
    "title pr and not (emails pr) or active eq false",
)

#: Filters the differential search runs over Users and Groups together.
DIFFERENTIAL_ROOT_FILTERS: tuple[str, ...] = (
    'displayName eq "ADMINS"',
    'displayName co "%"',
    'members.value eq "u-1"',
    'members[type eq "User"]',
    "members pr",
    'meta.resourceType eq "Group"',
    "userName pr",
    "not (userName pr)",
    'externalId eq "g1"',
    'displayName sw "t"',
)

#: Sorts the differential search runs: ``(sortBy, sortOrder)``.
DIFFERENTIAL_SORTS: tuple[tuple[str | None, str], ...] = (
    (None, "ascending"),
    ("userName", "ascending"),
    ("userName", "descending"),
    ("title", "ascending"),
    ("title", "descending"),
    ("externalId", "ascending"),
    ("emails", "ascending"),
    ("emails.type", "descending"),
    ("name.familyName", "ascending"),
    ("active", "ascending"),
    ("meta.created", "descending"),
    (_EMP, "ascending"),
)


# -- expected sort order, computed independently of any store -----------------------------


def _container(resource: Any, ref: AttributeRef) -> Any:
    model = type(resource)
    if ref.common or ref.schema.id == model.__scim_resource_type__.schema:
        return resource
    return resource.extensions.get(ref.schema.id)


def expected_order_key(resource: Any, ref: AttributeRef | None) -> tuple[Any, ...]:
    """The key a resource sorts by (RFC 7644 §3.4.2.3), from the typed resource.

    Missing (``None``, ``""``) sorts after every value; numbers before strings; a
    multi-valued attribute sorts by its primary element, else its first.
    """
    if ref is None:
        return (1, 0, 0)
    container = _container(resource, ref)
    value = getattr(container, ref.chain[0].python_name, None) if container is not None else None
    if ref.chain[0].multi_valued:
        if not value:
            value = None
        else:
            element = value[0]
            if len(ref.chain) > 1:
                for item in value:
                    if getattr(item, "primary", None) is True:
                        element = item
                        break
            value = element
    if len(ref.chain) > 1 and value is not None:
        value = getattr(value, ref.chain[1].python_name, None)
    if value is None or value == "":
        return (1, 0, 0)
    value = comparable(value, ref.target)
    if isinstance(value, bool | int | float):
        return (0, 0, value)
    return (0, 1, value)


# -- Hypothesis strategies -----------------------------------------------------------------

_TRAP_TEXT = (
    "",
    "a",
    "A",
    "ab",
    "AB",
    "%",
    "_",
    "a%",
    "_b",
    "\\",
    "'",
    '"',
    "é",
    "É",
    "e\u0301",
    "ß",
    "SS",
    "ss",
    "😀",
    "x y",
    "ǅ",
    "ﬁ",
    "FI",
    "İ",
    "i̇",
)


def _text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_TRAP_TEXT),
        st.text(alphabet=st.sampled_from("aAbB%_\\'\"éÉßS😀 "), max_size=4),
    )


def users_strategy() -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of users (wire JSON) drawn from trap strings, with unique folded userNames."""
    from scimcore.storage._values import fold

    text = _text()
    maybe = st.one_of(st.none(), text)
    email = st.fixed_dictionaries(
        {},
        optional={
            "value": text,
            "type": st.sampled_from(["work", "home", "Work", ""]),
            "primary": st.booleans(),
        },
    )
    user = st.fixed_dictionaries(
        {"schemas": st.just([USER, ENTERPRISE]), "userName": text.filter(bool)},
        optional={
            "title": maybe,
            "displayName": maybe,
            "nickName": maybe,
            "externalId": maybe,
            "active": st.one_of(st.none(), st.booleans()),
            "name": st.fixed_dictionaries({}, optional={"familyName": text, "givenName": text}),
            "emails": st.lists(email, max_size=3),
            ENTERPRISE: st.fixed_dictionaries(
                {},
                optional={
                    "employeeNumber": text,
                    "manager": st.fixed_dictionaries({}, optional={"value": text}),
                },
            ),
        },
    )
    return st.lists(user, max_size=5, unique_by=lambda u: fold(u["userName"]))


_PATHS: tuple[tuple[str, str], ...] = (
    ("userName", "text"),
    ("title", "text"),
    ("displayName", "text"),
    ("nickName", "text"),
    ("externalId", "text"),
    ("active", "bool"),
    ("emails.value", "text"),
    ("emails.type", "text"),
    ("emails.primary", "bool"),
    ("emails", "text"),
    ("name.familyName", "text"),
    ("name.givenName", "text"),
    ("name", "complex"),
    (_EMP, "text"),
    (f"{ENTERPRISE}:manager.value", "text"),
    (f"{ENTERPRISE}:manager", "text"),
    ("meta.created", "date"),
    ("nosuch", "text"),
    ("schemas", "text"),
    ("id", "text"),
)
_INNER: tuple[tuple[str, str], ...] = (("value", "text"), ("type", "text"), ("primary", "bool"))


def _compare(paths: Sequence[tuple[str, str]]) -> st.SearchStrategy[str]:
    import json

    @st.composite
    def build(draw: st.DrawFn) -> str:
        path, kind = draw(st.sampled_from(paths))
        if kind == "complex" or draw(st.integers(0, 9)) == 0:
            return f"{path} pr"
        if kind == "bool":
            op = draw(st.sampled_from(["eq", "ne"]))
            literal = draw(st.sampled_from(["true", "false", "null"]))
            return f"{path} {op} {literal}"
        if kind == "date":
            op = draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]))
            when = draw(st.sampled_from(["2000-01-01T00:00:00Z", "2999-01-01T00:00:00+05:00"]))
            return f'{path} {op} "{when}"'
        op = draw(st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]))
        value: str | None = draw(st.one_of(_text(), st.none()) if op in ("eq", "ne") else _text())
        return f"{path} {op} {json.dumps(value, ensure_ascii=False)}"

    return build()


def filters_strategy() -> st.SearchStrategy[str]:
    """Filter texts over the attributes :func:`users_strategy` fills, traps included."""
    leaf = st.one_of(
        _compare(_PATHS),
        st.builds(lambda f: f"emails[{f}]", _compare(_INNER)),
        st.builds(
            lambda a, b, op: f"emails[{a} {op} {b}]",
            _compare(_INNER),
            _compare(_INNER),
            st.sampled_from(["and", "or"]),
        ),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda f: f"not ({f})", inner),
            st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
            st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        ),
        max_leaves=4,
    )


# -- async stores ---------------------------------------------------------------------------


class BlockingStore:
    """A sync face on an :class:`~scimcore.storage.AsyncResourceStore`, to run the contract on it.

    Its coroutines run on an event loop in a background thread; each call
    blocks until its result is ready, so threads can call at once::

        @pytest.fixture
        def store(self):
            store = BlockingStore(MyAsyncStore())
            yield store
            store.close()
    """

    def __init__(self, store: AsyncResourceStore) -> None:
        self.store = store
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def create(self, resource: T) -> T:
        """See :meth:`~scimcore.storage.ResourceStore.create`."""
        return self._run(self.store.create(resource))

    def get(self, model: type[T], resource_id: str) -> T:
        """See :meth:`~scimcore.storage.ResourceStore.get`."""
        return self._run(self.store.get(model, resource_id))

    def replace(self, resource: T, *, expected_version: str | None = None) -> T:
        """See :meth:`~scimcore.storage.ResourceStore.replace`."""
        return self._run(self.store.replace(resource, expected_version=expected_version))

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """See :meth:`~scimcore.storage.ResourceStore.delete`."""
        self._run(self.store.delete(model, resource_id, expected_version=expected_version))

    def search(self, query: Query) -> Page[Any]:
        """See :meth:`~scimcore.storage.ResourceStore.search`."""
        return self._run(self.store.search(query))

    def close(self) -> None:
        """Close the async store, then stop the loop."""
        self._run(self.store.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


# -- the suite -----------------------------------------------------------------------------


def _decode(data: dict[str, Any], model: type[Any]) -> Any:
    from scimcore.codecs.v2 import decode

    return decode(data, model)


def _evaluate(text: str, model: type[Any], policy: Policy) -> Callable[[Any], bool]:
    from scimcore.filter import compile_filter, parse_filter

    return compile_filter(parse_filter(text), model, policy=policy)


def _all(store: ResourceStore, *models: type[Any]) -> list[Any]:
    return list(store.search(Query(models=models)).resources)


class StoreContract:
    """The contract every :class:`~scimcore.storage.ResourceStore` passes; subclass it.

    Give a ``store`` fixture returning a new, empty store (see the module docstring).
    """

    #: Whether the store pages with RFC 9865 cursors.
    supports_cursors: ClassVar[bool] = True
    #: Whether the store sorts (``sortBy``).
    supports_sort: ClassVar[bool] = True
    #: Examples of the Hypothesis differential run.
    hypothesis_examples: ClassVar[int] = 200
    #: Writer threads in the concurrency tests.
    threads: ClassVar[int] = 8

    @pytest.fixture
    def store(self) -> Iterator[ResourceStore]:
        """The store under test: override in the subclass."""
        raise NotImplementedError("give StoreContract a 'store' fixture")

    @pytest.fixture
    def populated(self, store: Any) -> tuple[Any, list[Any], list[Any]]:
        """The store with :data:`TRAP_USERS` and :data:`TRAP_GROUPS` in it."""
        users = [store.create(_decode(u, User)) for u in TRAP_USERS]
        groups = [store.create(_decode(g, Group)) for g in TRAP_GROUPS]
        return store, users, groups

    # -- CRUD --------------------------------------------------------------------------------

    def test_create_sets_id_and_meta(self, store: Any) -> None:
        given_user = User(user_name="bjensen")
        created = store.create(given_user)
        assert created.id
        assert created.meta.resource_type == "User"
        assert created.meta.created is not None
        assert created.meta.created.tzinfo is not None
        assert created.meta.last_modified == created.meta.created
        assert created.meta.version
        assert created.meta.location is None
        assert (given_user.id, given_user.meta) == (None, None)  # the input is untouched
        assert store.get(User, created.id) == created

    def test_create_keeps_a_given_id_and_refuses_a_taken_one(self, store: Any) -> None:
        created = store.create(User(id="fixed-id", user_name="a"))
        assert created.id == "fixed-id"
        with pytest.raises(Uniqueness):
            store.create(User(id="fixed-id", user_name="b"))

    def test_returns_copies(self, store: Any) -> None:
        created = store.create(User(user_name="bjensen", emails=[]))
        created.user_name = "changed"
        fetched = store.get(User, created.id)
        assert fetched.user_name == "bjensen"
        fetched.emails.append(created)
        assert store.get(User, created.id).emails == []
        found = store.search(Query(models=User)).resources[0]
        found.user_name = "other"
        assert store.get(User, created.id).user_name == "bjensen"

    def test_round_trip_keeps_every_attribute(self, store: Any) -> None:
        for data in TRAP_USERS:
            created = store.create(_decode({**data, "password": "s3cret"}, User))
            assert created.password == "s3cret"
            fetched = store.get(User, created.id)
            assert fetched == created
            assert fetched.user_name == data["userName"]

    def test_get_unknown_is_not_found(self, store: Any) -> None:
        with pytest.raises(NotFound):
            store.get(User, "nope")
        user = store.create(User(user_name="x"))
        with pytest.raises(NotFound):
            store.get(Group, user.id)

    def test_replace(self, store: Any) -> None:
        created = store.create(User(user_name="bjensen", title="a"))
        created.title = "b"
        replaced = store.replace(created)
        assert replaced.title == "b"
        assert replaced.id == created.id
        assert replaced.meta.created == created.meta.created
        assert replaced.meta.version != created.meta.version
        assert replaced.meta.last_modified >= created.meta.last_modified
        assert store.get(User, created.id) == replaced

    def test_replace_unknown_is_not_found(self, store: Any) -> None:
        with pytest.raises(NotFound):
            store.replace(User(id="nope", user_name="x"))

    def test_stale_version_is_precondition_failed(self, store: Any) -> None:
        created = store.create(User(user_name="bjensen", title="a"))
        first = created.meta.version
        created.title = "b"
        second = store.replace(created, expected_version=first)
        created.title = "c"
        with pytest.raises(PreconditionFailed):
            store.replace(created, expected_version=first)
        with pytest.raises(PreconditionFailed):
            store.delete(User, created.id, expected_version=first)
        assert store.get(User, created.id) == second

    def test_expected_version_is_compared_weakly_and_star_matches(self, store: Any) -> None:
        created = store.create(User(user_name="bjensen"))
        opaque = created.meta.version.removeprefix("W/")
        replaced = store.replace(created, expected_version=opaque)
        replaced = store.replace(
            replaced, expected_version=f"W/{replaced.meta.version.removeprefix('W/')}"
        )
        replaced = store.replace(replaced, expected_version="*")
        store.delete(User, created.id, expected_version="*")
        with pytest.raises(NotFound):
            store.get(User, created.id)

    def test_versions_change_on_every_write(self, store: Any) -> None:
        seen = set()
        user = store.create(User(user_name="bjensen"))
        seen.add(user.meta.version)
        for _ in range(5):
            user = store.replace(user)
            seen.add(user.meta.version)
        other = store.create(User(user_name="other"))
        seen.add(other.meta.version)
        assert len(seen) == 7
        assert store.get(User, user.id).meta.version == user.meta.version

    def test_delete(self, store: Any) -> None:
        created = store.create(User(user_name="bjensen"))
        store.delete(User, created.id)
        with pytest.raises(NotFound):
            store.get(User, created.id)
        with pytest.raises(NotFound):
            store.delete(User, created.id)
        assert store.search(Query(models=User)).total == 0

    # -- uniqueness --------------------------------------------------------------------------

    def test_user_name_is_unique_case_insensitively(self, store: Any) -> None:
        store.create(User(user_name="BJensen"))
        with pytest.raises(Uniqueness):
            store.create(User(user_name="bjensen"))
        with pytest.raises(Uniqueness):
            store.create(User(user_name="BJENSEN"))
        store.create(User(user_name="bjensen2"))
        assert store.search(Query(models=User)).total == 2

    def test_user_name_uniqueness_folds_unicode(self, store: Any) -> None:
        store.create(User(user_name="straße"))
        with pytest.raises(Uniqueness):
            store.create(User(user_name="STRASSE"))
        store.create(User(user_name="Cafe\u0301"))
        with pytest.raises(Uniqueness):
            store.create(User(user_name="CAFÉ"))

    def test_replace_checks_uniqueness_and_changes_nothing_on_failure(self, store: Any) -> None:
        store.create(User(user_name="taken"))
        mine = store.create(User(user_name="mine", title="t"))
        mine.title = "same name, new title"
        mine = store.replace(mine)  # keeping its own userName is no conflict
        mine.user_name = "TAKEN"
        with pytest.raises(Uniqueness):
            store.replace(mine)
        assert store.get(User, mine.id).user_name == "mine"

    def test_a_freed_user_name_can_be_taken_again(self, store: Any) -> None:
        first = store.create(User(user_name="bjensen"))
        first.user_name = "renamed"
        store.replace(first)
        second = store.create(User(user_name="BJENSEN"))
        store.delete(User, second.id)
        store.create(User(user_name="bjensen"))

    def test_user_names_do_not_clash_with_group_names(self, store: Any) -> None:
        store.create(User(user_name="admins"))
        store.create(Group(display_name="admins"))

    # -- threads -----------------------------------------------------------------------------

    def _run(self, work: Callable[[int], None]) -> list[BaseException]:
        errors: list[BaseException] = []
        barrier = threading.Barrier(self.threads)

        def run(n: int) -> None:
            try:
                barrier.wait()
                work(n)
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=run, args=(n,)) for n in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return errors

    def test_threads_creating_at_once(self, store: Any) -> None:
        created: list[Any] = []

        def work(n: int) -> None:
            for i in range(10):
                created.append(store.create(User(user_name=f"user-{n}-{i}")))

        assert self._run(work) == []
        assert store.search(Query(models=User, count=0)).total == self.threads * 10
        assert len({u.id for u in created}) == self.threads * 10
        assert len({u.meta.version for u in created}) == self.threads * 10

    def test_threads_racing_for_one_user_name(self, store: Any) -> None:
        winners: list[Any] = []

        def work(n: int) -> None:
            with contextlib.suppress(Uniqueness):
                winners.append(store.create(User(user_name="Contested" if n % 2 else "contested")))

        assert self._run(work) == []
        assert len(winners) == 1
        assert store.search(Query(models=User)).total == 1

    def test_expected_version_prevents_lost_updates(self, store: Any) -> None:
        user = store.create(User(user_name="counter", title="0"))

        def work(n: int) -> None:
            for _ in range(5):
                while True:
                    current = store.get(User, user.id)
                    current.title = str(int(current.title) + 1)
                    try:
                        store.replace(current, expected_version=current.meta.version)
                        break
                    except PreconditionFailed:
                        continue

        assert self._run(work) == []
        assert store.get(User, user.id).title == str(self.threads * 5)

    def test_update_never_loses_an_update(self, store: Any) -> None:
        """``scimcore.storage.update``: native when the store has it, else get + replace."""
        user = store.create(User(user_name="counter", title="0"))

        def bump(current: Any) -> Any:
            current.title = str(int(current.title) + 1)
            return current

        def work(n: int) -> None:
            for _ in range(5):
                while True:
                    try:
                        update(store, User, user.id, bump)
                        break
                    except PreconditionFailed:
                        continue

        assert self._run(work) == []
        assert store.get(User, user.id).title == str(self.threads * 5)

    # -- paging (RFC 7644 §3.4.2.4) ----------------------------------------------------------

    def _users(self, store: Any, n: int) -> list[Any]:
        return [store.create(User(user_name=f"user{i:02d}")) for i in range(n)]

    def test_start_index_and_count(self, store: Any) -> None:
        self._users(store, 5)

        def names(page: Page[Any]) -> list[str]:
            return [u.user_name for u in page.resources]

        ordered: dict[str, Any] = {"models": User}
        if self.supports_sort:
            ordered["sort_by"] = "userName"
        everything = names(store.search(Query(**ordered)))
        page = store.search(Query(**ordered, count=2))
        assert (page.total, names(page)) == (5, everything[:2])  # T055
        page = store.search(Query(**ordered, start_index=5, count=2))
        assert (page.total, names(page)) == (5, everything[4:])
        page = store.search(Query(**ordered, start_index=0, count=1))  # T053
        assert (page.start_index, names(page)) == (1, everything[:1])
        page = store.search(Query(**ordered, count=-1))  # T054
        assert (page.total, names(page)) == (5, [])
        page = store.search(Query(**ordered, start_index=100))  # T056
        assert (page.total, names(page)) == (5, [])
        page = store.search(Query(models=User, filter='userName eq "none"'))  # T043
        assert (page.total, list(page.resources)) == (0, [])

    def _walk(self, store: Any, query: Query) -> list[Page[Any]]:
        pages = [store.search(query)]
        while pages[-1].next_cursor is not None:
            pages.append(store.search(Query(**{**_fields(query), "cursor": pages[-1].next_cursor})))
            assert len(pages) < 1000
        return pages

    def test_cursor_pages_walk_forward_and_back(self, store: Any) -> None:
        if not self.supports_cursors:
            pytest.skip("the store does not page with cursors")
        users = self._users(store, 7)
        for sort_by, order in (
            (None, "ascending"),
            ("userName", "descending"),
            ("title", "ascending"),
        ):
            if sort_by is not None and not self.supports_sort:
                continue
            query = Query(models=User, cursor="", count=3, sort_by=sort_by, sort_order=order)
            pages = self._walk(store, query)
            assert [len(p.resources) for p in pages] == [3, 3, 1]
            assert pages[0].previous_cursor is None  # RFC 9865: never on the first page
            assert all(p.total == 7 for p in pages)
            seen = [u.id for p in pages for u in p.resources]
            assert sorted(seen) == sorted(u.id for u in users)
            back = store.search(Query(**{**_fields(query), "cursor": pages[2].previous_cursor}))
            assert [u.id for u in back.resources] == [u.id for u in pages[1].resources]
            back = store.search(Query(**{**_fields(query), "cursor": back.previous_cursor}))
            assert [u.id for u in back.resources] == [u.id for u in pages[0].resources]
            assert back.previous_cursor is None
            assert back.next_cursor is not None

    def test_count_zero_with_a_cursor_gives_the_total_only(self, store: Any) -> None:
        if not self.supports_cursors:
            pytest.skip("the store does not page with cursors")
        self._users(store, 3)
        page = store.search(Query(models=User, cursor="", count=0))
        assert (page.total, list(page.resources), page.next_cursor) == (3, [], None)

    def test_bad_cursors_are_refused(self, store: Any) -> None:
        if not self.supports_cursors:
            pytest.skip("the store does not page with cursors")
        self._users(store, 4)
        query = Query(models=User, cursor="", count=2, filter="userName pr")
        token = store.search(query).next_cursor
        assert token is not None
        forged = ("A" if token[0] != "A" else "B") + token[1:]
        for bad in (forged, "garbage", token + "x", token[:-2]):
            with pytest.raises(InvalidCursor):
                store.search(Query(**{**_fields(query), "cursor": bad}))
        other = Query(models=User, cursor=token, count=2, filter='userName sw "u"')
        with pytest.raises(InvalidCursor):  # bound to its query (RFC 9865 §2)
            store.search(other)

    def test_cursor_pages_are_stable_under_concurrent_writes(self, store: Any) -> None:
        if not self.supports_cursors:
            pytest.skip("the store does not page with cursors")
        stable = self._users(store, 30)
        churn = [store.create(User(user_name=f"churn{i:02d}")) for i in range(10)]
        stop = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            i = 0
            try:
                while not stop.is_set():
                    victim = churn.pop(0)
                    store.delete(User, victim.id)
                    churn.append(store.create(User(user_name=f"new{i:04d}")))
                    i += 1
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for sort_by in (None, "userName") if self.supports_sort else (None,):
                pages = self._walk(store, Query(models=User, cursor="", count=4, sort_by=sort_by))
                seen = [u.id for p in pages for u in p.resources]
                assert len(seen) == len(set(seen)), "a resource appeared twice"
                assert {u.id for u in stable} <= set(seen), "a resource was skipped"
        finally:
            stop.set()
            thread.join()
        assert errors == []

    # -- sorting (RFC 7644 §3.4.2.3) ---------------------------------------------------------

    def test_sort_rules(self, store: Any) -> None:
        if not self.supports_sort:
            pytest.skip("the store does not sort")
        for name, title in (("carol", "b"), ("alice", None), ("Bob", "a"), ("dave", "")):
            store.create(User(user_name=name, title=title))

        def names(**kw: Any) -> list[str]:
            return [u.user_name for u in store.search(Query(models=User, **kw)).resources]

        assert names(sort_by="userName") == ["alice", "Bob", "carol", "dave"]  # T047, T049
        assert names(sort_by="userName", sort_order="descending") == [
            "dave",
            "carol",
            "Bob",
            "alice",
        ]
        assert names(sort_by="title")[:2] == ["Bob", "carol"]  # T050: missing last
        assert set(names(sort_by="title")[2:]) == {"alice", "dave"}
        assert set(names(sort_by="title", sort_order="descending")[:2]) == {"alice", "dave"}
        with pytest.raises(InvalidValue):
            store.search(Query(models=User, sort_by="name"))  # T052
        with pytest.raises(InvalidValue):
            store.search(Query(models=User, sort_by="nosuch"))

    def test_sort_by_multi_valued_uses_primary_then_first(self, store: Any) -> None:
        if not self.supports_sort:
            pytest.skip("the store does not sort")
        data: tuple[tuple[str, list[dict[str, Any]]], ...] = (
            ("u1", [{"value": "z@x"}, {"value": "a@x", "primary": True}]),
            ("u2", [{"value": "m@x"}, {"value": "b@x"}]),
            ("u3", []),
        )
        for name, emails in data:
            store.create(_decode({"userName": name, "emails": emails}, User))
        page = store.search(Query(models=User, sort_by="emails"))  # T051
        assert [u.user_name for u in page.resources] == ["u1", "u2", "u3"]

    # -- filters -----------------------------------------------------------------------------

    def test_strict_policy_refuses_unknown_attributes(self, store: Any) -> None:
        store.create(User(user_name="x"))
        with pytest.raises(InvalidFilter):
            store.search(Query(models=User, filter='nosuch eq "x"', policy=Policy.strict()))

    def test_invalid_filters_are_refused(self, store: Any) -> None:
        store.create(User(user_name="x", active=True))
        for text in (
            "active gt true",
            'x509Certificates.value lt "MII"',
            'name eq "x"',
            "userName eq 5",
            'active co "t"',
        ):
            with pytest.raises(InvalidFilter):
                store.search(Query(models=User, filter=text))

    def test_differential_search(self, populated: tuple[Any, list[Any], list[Any]]) -> None:
        store, users, _ = populated
        sorts = DIFFERENTIAL_SORTS if self.supports_sort else DIFFERENTIAL_SORTS[:1]
        mismatches = []
        for text in DIFFERENTIAL_FILTERS:
            for sort_by, order in sorts:
                problem = _differential(store, (User,), users, text, sort_by, order)
                if problem:
                    mismatches.append(problem)
        assert not mismatches, "\n".join(mismatches)

    def test_differential_search_over_several_types(
        self, populated: tuple[Any, list[Any], list[Any]]
    ) -> None:
        store, users, groups = populated
        sorts = (
            ((None, "ascending"), ("displayName", "ascending"), ("externalId", "descending"))
            if self.supports_sort
            else ((None, "ascending"),)
        )
        mismatches = []
        for text in (*DIFFERENTIAL_ROOT_FILTERS, *DIFFERENTIAL_FILTERS[:20]):
            for sort_by, order in sorts:
                problem = _differential(store, (User, Group), users + groups, text, sort_by, order)
                if problem:
                    mismatches.append(problem)
        assert not mismatches, "\n".join(mismatches)

    def test_differential_search_generated(self, store: Any) -> None:
        """Generated resources × generated filters: the store agrees with the evaluator."""
        try:
            from scimcore.strategies import filters as shared_filters

            texts = st.one_of(filters_strategy(), shared_filters(User).map(str))
        except (ImportError, TypeError, AttributeError):
            texts = filters_strategy()
        sort_choices = DIFFERENTIAL_SORTS if self.supports_sort else DIFFERENTIAL_SORTS[:1]

        @settings(
            max_examples=self.hypothesis_examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(users_strategy(), texts, st.sampled_from(sort_choices))
        def run(data: list[dict[str, Any]], text: str, sort: tuple[str | None, str]) -> None:
            created = [store.create(_decode(u, User)) for u in data]
            try:
                problem = _differential(store, (User,), created, text, *sort)
                assert problem is None, problem
            finally:
                for user in created:
                    store.delete(User, user.id)

        run()


def _fields(query: Query) -> dict[str, Any]:
    return {
        "models": query.models,
        "filter": query.filter,
        "sort_by": query.sort_by,
        "sort_order": query.sort_order,
        "count": query.count,
        "policy": query.policy,
    }


def _names(resources: list[Any]) -> list[str]:
    return sorted(str(getattr(r, "user_name", None) or r.display_name) for r in resources)


def _differential(
    store: ResourceStore,
    models: tuple[type[Any], ...],
    resources: list[Any],
    text: str,
    sort_by: str | None,
    order: str,
) -> str | None:
    """``None`` when the store selects and orders what the evaluator says; else why not."""
    from scimcore.filter import parse_filter
    from scimcore.storage._query import resolve_sort

    policy = Policy() if len(models) == 1 else Policy(unknown_filter_attribute="matches_nothing")
    try:
        node = parse_filter(text)
        tests = {model: _evaluate(text, model, policy) for model in models}
        expected = [r for r in resources if tests[type(r)](r)]
        expected_error: type[ScimError] | None = None
    except ScimError as exc:
        expected, expected_error = [], type(exc)
    try:
        page = store.search(
            Query(
                models=models,
                filter=node if expected_error is None else text,
                sort_by=sort_by,
                sort_order=order,
                policy=policy,
            )
        )
    except ScimError as exc:
        if expected_error is not None and isinstance(exc, InvalidFilter):
            return None
        return f"{text!r} sort={sort_by}: store raised {exc!r}, evaluator did not"
    if expected_error is not None:
        return f"{text!r}: evaluator raised {expected_error.__name__}, store did not"
    got = list(page.resources)
    if sorted(r.id for r in got) != sorted(r.id for r in expected):
        return f"{text!r}: store {_names(got)} != evaluator {_names(expected)}"
    if page.total != len(expected):
        return f"{text!r}: total {page.total} != {len(expected)}"
    if sort_by is not None:
        keys = [expected_order_key(r, resolve_sort(sort_by, type(r))) for r in got]
        wanted = sorted(keys, reverse=order == "descending")
        if keys != wanted:
            return f"{text!r} sort={sort_by} {order}: out of order"
    return None
