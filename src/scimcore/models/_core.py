"""The RFC 7643 core resources: User (§4.1), Group (§4.2), Enterprise User (§4.3).

Each class names its fields after the schema's attributes and points at the
schema (fixed per :data:`scimcore.schema.ERRATA`); :func:`check_model` verifies
at import time that the two agree, so a field can never drift from the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import attrs

from scimcore.models._base import Complex, Extension, Resource, as_list, check_model
from scimcore.schema import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_RESOURCE_TYPE,
    GROUP_SCHEMA,
    USER_RESOURCE_TYPE,
    USER_SCHEMA,
    Attribute,
    Schema,
    core_schemas,
)

__all__ = [
    "Address",
    "Email",
    "EnterpriseUser",
    "Entitlement",
    "Group",
    "GroupMember",
    "GroupMembership",
    "Im",
    "Manager",
    "Name",
    "PhoneNumber",
    "Photo",
    "Role",
    "User",
    "X509Certificate",
]

_REGISTRY = core_schemas()


def _schema(urn: str) -> Schema:
    schema = _REGISTRY.schema(urn)
    assert schema is not None
    return schema


def _attribute(schema: Schema, name: str) -> Attribute:
    attribute = schema.attribute(name)
    assert attribute is not None
    return attribute


_USER = _schema(USER_SCHEMA)
_GROUP = _schema(GROUP_SCHEMA)
_ENTERPRISE = _schema(ENTERPRISE_USER_SCHEMA)


@check_model
@attrs.define(kw_only=True)
class Name(Complex):
    """The components of a user's name (RFC 7643 §4.1.1).

    >>> Name(given_name="Barbara", family_name="Jensen").given_name
    'Barbara'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "name")

    formatted: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    honorific_prefix: str | None = None
    honorific_suffix: str | None = None


@check_model
@attrs.define(kw_only=True)
class Email(Complex):
    """An email address (RFC 7643 §4.1.2).

    >>> Email(value="bjensen@example.com", type="work", primary=True).primary
    True
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "emails")

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


@check_model
@attrs.define(kw_only=True)
class PhoneNumber(Complex):
    """A phone number (RFC 7643 §4.1.2).

    >>> PhoneNumber(value="555-555-8377", type="work").type
    'work'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "phoneNumbers")

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


@check_model
@attrs.define(kw_only=True)
class Im(Complex):
    """An instant-messaging address (RFC 7643 §4.1.2).

    >>> Im(value="someaimhandle", type="aim").value
    'someaimhandle'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "ims")

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


@check_model
@attrs.define(kw_only=True)
class Photo(Complex):
    """A URL of a photo of the user (RFC 7643 §4.1.2).

    >>> Photo(value="https://photos.example.com/profilephoto.jpg", type="photo").type
    'photo'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "photos")

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


@check_model
@attrs.define(kw_only=True)
class Address(Complex):
    """A physical mailing address (RFC 7643 §4.1.2).

    >>> Address(locality="Hollywood", region="CA", type="work").region
    'CA'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "addresses")

    formatted: str | None = None
    street_address: str | None = None
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    type: str | None = None
    primary: bool | None = None


@check_model
@attrs.define(kw_only=True)
class GroupMembership(Complex):
    """A group the user belongs to (RFC 7643 §4.1.2); read-only, kept by the server.

    >>> GroupMembership(value="e9e30dba", display="Tour Guides").display
    'Tour Guides'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "groups")

    value: str | None = None
    ref: str | None = None
    display: str | None = None
    type: str | None = None


@check_model
@attrs.define(kw_only=True)
class Entitlement(Complex):
    """An entitlement of the user (RFC 7643 §4.1.2).

    >>> Entitlement(value="vpn").value
    'vpn'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "entitlements")

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


@check_model
@attrs.define(kw_only=True)
class Role(Complex):
    """A role of the user (RFC 7643 §4.1.2).

    >>> Role(value="admin").value
    'admin'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "roles")

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


@check_model
@attrs.define(kw_only=True)
class X509Certificate(Complex):
    """A DER certificate of the user, base64-encoded (RFC 7643 §4.1.2).

    >>> X509Certificate(value="MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw").value[:4]
    'MIID'
    """

    __scim_schema__ = _USER
    __scim_attribute__ = _attribute(_USER, "x509Certificates")

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


@check_model
@attrs.define(kw_only=True)
class Manager(Complex):
    """The user's manager (RFC 7643 §4.3).

    >>> Manager(value="26118915-6090-4610-87e4-49d8ca9f808d").display_name
    """

    __scim_schema__ = _ENTERPRISE
    __scim_attribute__ = _attribute(_ENTERPRISE, "manager")

    value: str | None = None
    ref: str | None = None
    display_name: str | None = None


@check_model
@attrs.define(kw_only=True)
class EnterpriseUser(Extension):
    """The Enterprise User extension (RFC 7643 §4.3), held by a :class:`User`.

    >>> user = User(user_name="bjensen")
    >>> user[EnterpriseUser] = EnterpriseUser(employee_number="701984")
    >>> user[EnterpriseUser].employee_number
    '701984'
    >>> user.schemas[-1]
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
    """

    __scim_schema__ = _ENTERPRISE

    employee_number: str | None = None
    cost_center: str | None = None
    organization: str | None = None
    division: str | None = None
    department: str | None = None
    manager: Manager | None = None


@check_model
@attrs.define(kw_only=True)
class User(Resource):
    """A user account (RFC 7643 §4.1).

    >>> user = User(user_name="bjensen", name=Name(given_name="Barbara"),
    ...             emails=[Email(value="bjensen@example.com", primary=True)])
    >>> user.schemas, user.name.given_name, user.phone_numbers
    (['urn:ietf:params:scim:schemas:core:2.0:User'], 'Barbara', [])
    >>> user[EnterpriseUser] is None
    True
    """

    __scim_schema__ = _USER
    __scim_resource_type__ = USER_RESOURCE_TYPE
    __scim_extensions__: ClassVar[Mapping[str, type[Extension]]] = {
        ENTERPRISE_USER_SCHEMA: EnterpriseUser
    }

    user_name: str | None = None
    name: Name | None = None
    display_name: str | None = None
    nick_name: str | None = None
    profile_url: str | None = None
    title: str | None = None
    user_type: str | None = None
    preferred_language: str | None = None
    locale: str | None = None
    timezone: str | None = None
    active: bool | None = None
    password: str | None = None
    emails: list[Email] = attrs.field(factory=list, converter=as_list)
    phone_numbers: list[PhoneNumber] = attrs.field(factory=list, converter=as_list)
    ims: list[Im] = attrs.field(factory=list, converter=as_list)
    photos: list[Photo] = attrs.field(factory=list, converter=as_list)
    addresses: list[Address] = attrs.field(factory=list, converter=as_list)
    groups: list[GroupMembership] = attrs.field(factory=list, converter=as_list)
    entitlements: list[Entitlement] = attrs.field(factory=list, converter=as_list)
    roles: list[Role] = attrs.field(factory=list, converter=as_list)
    x509_certificates: list[X509Certificate] = attrs.field(factory=list, converter=as_list)


@check_model
@attrs.define(kw_only=True)
class GroupMember(Complex):
    """A member of a group: a user or another group (RFC 7643 §4.2).

    >>> GroupMember(value="2819c223", type="User").type
    'User'
    """

    __scim_schema__ = _GROUP
    __scim_attribute__ = _attribute(_GROUP, "members")

    value: str | None = None
    ref: str | None = None
    type: str | None = None
    display: str | None = None


@check_model
@attrs.define(kw_only=True)
class Group(Resource):
    """A group of users and groups (RFC 7643 §4.2).

    >>> Group(display_name="Tour Guides", members=[GroupMember(value="2819c223")]).members[0].value
    '2819c223'
    """

    __scim_schema__ = _GROUP
    __scim_resource_type__ = GROUP_RESOURCE_TYPE

    display_name: str | None = None
    members: list[GroupMember] = attrs.field(factory=list, converter=as_list)
