"""One check run's state: the target, the wire format, the seeded resources, the budget.

The seeded users are written by the checks themselves (RFC 7643 §4.1 shapes,
with the traps a reference comparison needs: mixed case, empty and missing
values, ``caseExact`` ``externalId``), each ``userName`` starting with the
run's prefix (``chk1a2b3c-``) so that a shared server is not disturbed and a
filter can be kept to them. Everything a run creates is deleted at its end.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from scimcore.check._target import Sent, Target, json_body
from scimcore.client import HttpResponse
from scimcore.codecs import v1, v2
from scimcore.errors import ScimError
from scimcore.filter import Filter
from scimcore.models import (
    Email,
    EnterpriseUser,
    Error,
    Group,
    GroupMember,
    Name,
    PhoneNumber,
    User,
)
from scimcore.policy import Policy
from scimcore.schema import ServiceProviderConfig

__all__ = ["Answer", "Budget", "Session", "template_user"]

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


@attrs.frozen
class Budget:
    """How much fuzzing a run may do: examples per fuzzed check, and seconds in all.

    ``seed`` makes the examples drawn the same from run to run (Hypothesis's ``seed``).
    """

    max_examples: int = 200
    seconds: float | None = None
    seed: int | None = None
    started: float = attrs.field(factory=time.monotonic)

    def left(self) -> bool:
        """Whether there is time left."""
        return self.seconds is None or time.monotonic() - self.started < self.seconds


@attrs.frozen
class Answer:
    """A response read: status, JSON body, and the SCIM error in it (status, ``scimType``)."""

    status: int
    body: Any
    headers: Any
    error_status: str | None = None
    scim_type: str | None = None

    def summary(self) -> dict[str, Any]:
        """Status and SCIM error (what a finding prints as the actual answer)."""
        out: dict[str, Any] = {"status": self.status}
        if self.scim_type is not None:
            out["scimType"] = self.scim_type
        return out


def template_user(user_name: str, **fields: Any) -> User:
    """A user with the multi-valued attributes value filters select from."""
    user = User(
        user_name=user_name,
        display_name="Babs Jensen",
        title="Tour Guide",
        active=True,
        name=Name(given_name="Barbara", family_name="Jensen"),
        emails=[
            Email(value="bjensen@example.com", type="work", primary=True),
            Email(value="babs@jensen.org", type="home"),
        ],
        phone_numbers=[
            PhoneNumber(value="555-555-8377", type="work"),
            PhoneNumber(value="555-555-4242", type="mobile"),
        ],
    )
    for key, value in fields.items():
        setattr(user, key, value)
    return user


def _seed_users(prefix: str) -> list[User]:
    """The users the filter differential runs over: values that catch case and emptiness."""
    users = [
        template_user(f"{prefix}BJensen", external_id="bjensen"),
        User(
            user_name=f"{prefix}jsmith",
            external_id="ABC",
            title="",
            active=False,
            nick_name="Johnny",
            display_name="John Smith",
            emails=[
                Email(value="a@x.com", type="work"),
                Email(value="j@EXAMPLE.com", type="home"),
            ],
        ),
        User(
            user_name=f"{prefix}Alice",
            external_id="abc",
            title="tour guide",
            name=Name(given_name="Alice", family_name="O'Brien"),
            emails=[Email(value="Alice@Example.org", primary=False)],
        ),
        User(user_name=f"{prefix}bob", title="Manager", active=True, display_name="BOB"),
        User(user_name=f"{prefix}carol", nick_name="", display_name='Say "hi"'),
    ]
    users[0][EnterpriseUser] = EnterpriseUser(employee_number="701984", department="Tour")
    users[3][EnterpriseUser] = EnterpriseUser(employee_number="42", department="tour")
    for user in users:
        if user.extensions:
            user.schemas = [User.__scim_schema__.id, *user.extensions]
    return users


class Session:
    """The state one run shares between its checks."""

    def __init__(
        self,
        target: Target,
        *,
        policy: Policy,
        budget: Budget,
        allow_destructive: bool,
        progress: Callable[[str], None],
    ) -> None:
        self.target = target
        self.version = target.version
        self.policy = policy
        self.budget = budget
        self.allow_destructive = allow_destructive
        self.progress = progress
        # The filters drawn are built from the seeded values, the prefix among them: a
        # seeded run names its resources after its seed, so that it draws the same examples.
        tag = secrets.token_hex(3) if budget.seed is None else f"{budget.seed % 0x1000000:06x}"
        self.prefix = f"chk{tag}-"
        #: The seeded users' own prefix (other checks' resources are outside it).
        self.seed_prefix = self.prefix + "s-"
        self.created: list[tuple[str, str]] = []  # (endpoint, id), deleted at the end
        self.config: ServiceProviderConfig | None = None
        self.users: list[User] = []
        self._counter = 0

    # ------------------------------------------------------------------ wire format

    def encode(self, resource: Any) -> dict[str, Any]:
        """A resource as a request body in the target's SCIM version."""
        return v2.encode(resource) if self.version == 2 else v1.encode(resource)

    def decode(self, document: Any, model: type[Any]) -> Any:
        """A resource the server sent, in the target's SCIM version."""
        if self.version == 2:
            return v2.decode(document, model)
        return v1.decode(document, model)

    def filter_text(self, node: Filter | str, model: type[Any] = User) -> str:
        """A filter's text in the target's SCIM version."""
        return str(node) if self.version == 2 else v1.encode_filter(node, model)

    def read(self, response: HttpResponse) -> Answer:
        """The status, JSON body and SCIM error of a response."""
        body = json_body(response)
        error_status = scim_type = None
        if response.status >= 400 and isinstance(body, dict):
            try:
                error = v2.decode(body, Error) if self.version == 2 else None
                if self.version == 1:
                    error = v1.decode_error(body)
            except (ScimError, ValueError, TypeError):
                error = None
            if error is not None:
                error_status = str(error.status) if error.status is not None else None
                scim_type = error.scim_type
        return Answer(response.status, body, response.headers, error_status, scim_type)

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        token: str | bool | None = True,
    ) -> tuple[Sent, Answer]:
        """Send one request; the request and its answer read."""
        sent, response = self.target.request(
            method, path, query=query, body=body, headers=headers, token=token
        )
        return sent, self.read(response)

    # ------------------------------------------------------------------ resources

    def unique_name(self, stem: str) -> str:
        """A ``userName`` (or ``displayName``) in this run's namespace."""
        self._counter += 1
        return f"{self.prefix}{stem}{self._counter}"

    def create(self, endpoint: str, resource: Any) -> tuple[Sent, Answer, Any]:
        """POST a resource; remembered for clean-up when created. The typed copy, or None."""
        sent, answer = self.call("POST", endpoint, body=self.encode(resource))
        created = None
        if answer.status == 201 and isinstance(answer.body, dict):
            created = self.decode(answer.body, type(resource))
            if created.id:
                self.created.append((endpoint, created.id))
        return sent, answer, created

    def delete(self, endpoint: str, resource_id: str) -> Answer:
        """DELETE a resource (forgotten for clean-up)."""
        if (endpoint, resource_id) in self.created:
            self.created.remove((endpoint, resource_id))
        return self.call("DELETE", f"{endpoint}/{resource_id}")[1]

    def seed(self) -> list[User]:
        """Create the seeded users (once); the server's copies."""
        if not self.users:
            for user in _seed_users(self.seed_prefix):
                _, answer, created = self.create("/Users", user)
                if created is None:
                    raise SeedError(f"creating a user answered {answer.status}: {answer.body}")
                self.users.append(created)
        return self.users

    def group(self, members: list[str]) -> Group:
        """Create a group of ``members`` (ids) in this run's namespace; the server's copy."""
        group = Group(
            display_name=self.unique_name("group"),
            members=[GroupMember(value=m) for m in members],
        )
        _, answer, created = self.create("/Groups", group)
        if created is None:
            raise SeedError(f"creating a group answered {answer.status}: {answer.body}")
        return created  # type: ignore[no-any-return]

    def cleanup(self) -> Iterator[str]:
        """Delete everything this run created (groups first); a line per failure."""
        for endpoint, resource_id in sorted(self.created, key=lambda c: c[0] != "/Groups"):
            try:
                answer = self.call("DELETE", f"{endpoint}/{resource_id}")[1]
            except Exception as error:
                yield f"{endpoint}/{resource_id}: {error}"
                continue
            if answer.status not in (200, 204, 404):
                yield f"{endpoint}/{resource_id}: {answer.status}"
        self.created.clear()


class SeedError(Exception):
    """The seeded resources could not be created: the run cannot go on."""
