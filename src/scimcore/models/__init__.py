"""Typed models: attrs classes for SCIM resources and messages (tentative)."""

from scimcore.models._base import COMMON_SCHEMA, Complex, Extension, Meta, Resource, many
from scimcore.models._core import (
    Address,
    Email,
    EnterpriseUser,
    Entitlement,
    Group,
    GroupMember,
    GroupMembership,
    Im,
    Manager,
    Name,
    PhoneNumber,
    Photo,
    Role,
    User,
    X509Certificate,
)

__all__ = [
    "COMMON_SCHEMA",
    "Address",
    "Complex",
    "Email",
    "EnterpriseUser",
    "Entitlement",
    "Extension",
    "Group",
    "GroupMember",
    "GroupMembership",
    "Im",
    "Manager",
    "Meta",
    "Name",
    "PhoneNumber",
    "Photo",
    "Resource",
    "Role",
    "User",
    "X509Certificate",
    "many",
]
