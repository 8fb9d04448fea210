"""Passwords at rest: salted scrypt hashes in the PHC string format.

A SCIM client may set a ``password`` (RFC 7643 §4.1.1: ``writeOnly``,
``returned: never``); scimcore never keeps it as it was sent. Before any
write reaches a store, :class:`~scimcore.ScimService` replaces the value of
every ``returned: never`` string attribute that changed with
:func:`hash_password` of it, so a store, its files and its backups only ever
hold ``$scrypt$ln=14,r=8,p=1$<salt>$<hash>``. A host that must check a
password (its own sign-in page) reads the stored value through its store and
calls :func:`verify_password`.

scrypt (RFC 7914) is in Python's standard library (``hashlib.scrypt``, from
OpenSSL). The default cost, 2**14 with r=8 (16 MiB), takes about 50-100 ms;
the parameters live in each hash, so a stronger cost applies to new hashes
without invalidating old ones.

>>> stored = hash_password("correct horse")
>>> stored.startswith("$scrypt$ln=14,r=8,p=1$")
True
>>> verify_password("correct horse", stored), verify_password("wrong", stored)
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

__all__ = ["hash_password", "is_hashed", "verify_password"]

_PHC = re.compile(
    r"\$scrypt\$ln=(?P<ln>\d{1,2}),r=(?P<r>\d{1,2}),p=(?P<p>\d{1,2})"
    r"\$(?P<salt>[A-Za-z0-9+/]{16,88})\$(?P<hash>[A-Za-z0-9+/]{32,88})"
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, ln: int, r: int, p: int) -> bytes:
    memory = 128 * r * (2**ln) * p + 1024 * 1024 * r
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=2**ln,
        r=r,
        p=p,
        maxmem=memory,
        dklen=32,
    )


def hash_password(password: str, *, cost: int = 14) -> str:
    """A salted scrypt hash of ``password`` (``N = 2**cost``, r=8, p=1), as a PHC string.

    >>> a, b = hash_password("s3cret", cost=10), hash_password("s3cret", cost=10)
    >>> a != b and verify_password("s3cret", a) and verify_password("s3cret", b)
    True
    """
    if not 10 <= cost <= 20:
        raise ValueError("cost must be between 10 and 20")
    salt = os.urandom(16)
    digest = _scrypt(password, salt, cost, 8, 1)
    return f"$scrypt$ln={cost},r=8,p=1${_b64(salt)}${_b64(digest)}"


def is_hashed(value: object) -> bool:
    """Whether ``value`` is a hash :func:`hash_password` made.

    >>> is_hashed(hash_password("x", cost=10)), is_hashed("x"), is_hashed(None)
    (True, False, False)
    """
    return isinstance(value, str) and _PHC.fullmatch(value) is not None


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` is the one ``stored`` (a :func:`hash_password` hash) was made from.

    Anything that is not such a hash (``None``, a plain value) verifies
    nothing; the comparison takes the same time whatever the digest.

    >>> verify_password("x", None), verify_password("x", "x")
    (False, False)
    """
    match = _PHC.fullmatch(stored) if isinstance(stored, str) else None
    if match is None:
        return False
    ln, r, p = int(match["ln"]), int(match["r"]), int(match["p"])
    if not (10 <= ln <= 20 and 1 <= r <= 16 and 1 <= p <= 4):
        return False
    digest = _scrypt(password, _unb64(match["salt"]), ln, r, p)
    return hmac.compare_digest(digest, _unb64(match["hash"]))
