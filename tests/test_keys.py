"""Tokens and tenants kept in serve's database: ``scimcore token``, ``scimcore tenant``."""

from __future__ import annotations

import argparse
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from scimcore._keys import Keys, StoredTokens, digest
from scimcore._serve import _serving_tokens, fixed_tokens
from scimcore.cli import main
from scimcore.errors import Unauthorized
from scimcore.service import Request


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def bearer(token: str) -> Request:
    return Request("GET", "/Users", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(params=["sqlite", "postgres"])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Keys, Clock]]:
    clock = Clock()
    if request.param == "sqlite":
        made = Keys.sqlite(str(tmp_path / "scim.sqlite3"), clock=clock)
        yield made, clock
        made.close()
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"scim_test_{secrets.token_hex(6)}"
    made = Keys.postgres(dsn, schema=schema, clock=clock)
    try:
        yield made, clock
    finally:
        made.close()
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"drop schema {schema} cascade")


def test_create_list_revoke(keys: tuple[Keys, Clock]) -> None:
    store, clock = keys
    okta = store.create("okta")
    clock.now += 1
    entra = store.create("entra", "acme")
    assert okta != entra and len(okta) == 43
    listed = [(t.name, t.tenant, t.expires, t.digest) for t in store.tokens()]
    assert listed == [("okta", "", None, digest(okta)), ("entra", "acme", None, digest(entra))]
    assert [t.name for t in store.tokens("acme")] == ["entra"]
    assert store.digests("") == {digest(okta): None}
    assert store.revoke("okta") == 1
    assert store.revoke("okta") == 0
    assert store.digests("") == {}


def test_a_revoked_token_is_refused_without_a_restart(keys: tuple[Keys, Clock]) -> None:
    store, _ = keys
    token = store.create("okta")
    checker = StoredTokens(store, refresh=0.0)
    checker.check(bearer(token))
    store.revoke("okta")
    with pytest.raises(Unauthorized, match="The bearer token is not valid"):
        checker.check(bearer(token))
    made_later = store.create("entra")
    checker.check(bearer(made_later))


def test_rotation_keeps_the_old_token_for_the_overlap(keys: tuple[Keys, Clock]) -> None:
    store, clock = keys
    old = store.create("okta")
    clock.now += 1
    checker = StoredTokens(store, refresh=0.0)
    new = store.rotate("okta", overlap=600)
    checker.check(bearer(old))
    checker.check(bearer(new))
    assert [t.expires for t in store.tokens()] == [clock.now + 600, None]
    clock.now += 601
    with pytest.raises(Unauthorized):
        checker.check(bearer(old))
    checker.check(bearer(new))
    assert [t.name for t in store.tokens()] == ["okta"]


def test_a_tenants_token_opens_that_tenant_only(keys: tuple[Keys, Clock]) -> None:
    store, _ = keys
    store.add_tenant("acme", "entra")
    token = store.create("idp", "acme")
    StoredTokens(store, "acme").check(bearer(token))
    with pytest.raises(Unauthorized):
        StoredTokens(store, "").check(bearer(token))
    with pytest.raises(Unauthorized):
        StoredTokens(store, "globex").check(bearer(token))
    assert store.tenants() == {"acme": "entra"}
    assert store.remove_tenant("acme") == 1
    assert store.tenants() == {} and store.digests("acme") == {}


def test_tokens_are_kept_hashed(tmp_path: Path) -> None:
    path = tmp_path / "scim.sqlite3"
    store = Keys.sqlite(str(path))
    token = store.create("okta")
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in data
    assert digest(token).encode() in data


def test_tenant_names_are_checked() -> None:
    store = Keys.sqlite(":memory:")
    for bad in ("", "Acme", "a-b", "a/b", "x" * 41, "_a"):
        with pytest.raises(ValueError, match="a tenant's name is 1 to 40"):
            store.add_tenant(bad)


def serve_args(tmp_path: Path, *extra: str) -> argparse.Namespace:
    from scimcore.cli import _joined, _parser

    return _parser().parse_args(_joined(["serve", "--db", str(tmp_path / "s.db"), *extra]))


def test_serve_makes_a_token_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = serve_args(tmp_path)
    store = Keys.sqlite(args.db)
    first = _serving_tokens(args, store)
    shown = capsys.readouterr().out
    assert "shown only this once" in shown
    token = shown.split("Bearer ")[1].strip()
    first.check(bearer(token))
    # The next start finds the stored token: it makes no new one, and the old one still works.
    again = _serving_tokens(args, Keys.sqlite(args.db))
    assert capsys.readouterr().out == ""
    again.check(bearer(token))
    assert [t.name for t in store.tokens()] == ["default"]


def test_fixed_tokens_from_options_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text("from-file-1\n\n  from-file-2  \n")
    args = serve_args(tmp_path, "--token", "-starts-with-a-dash", "--token-file", str(path))
    found = fixed_tokens(args, {"SCIMCORE_TOKEN": " from-env "})
    assert found == ["-starts-with-a-dash", "from-file-1", "from-file-2", "from-env"]
    checker = _serving_tokens(args, Keys.sqlite(args.db))
    checker.check(bearer("-starts-with-a-dash"))
    with pytest.raises(Unauthorized):
        checker.check(bearer("from-env"))  # not in this process's environment


def test_token_and_tenant_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(tmp_path / "s.db")]
    assert main(["tenant", "add", "acme", "--policy", "okta", *db]) == 0
    assert main(["tenant", "list", *db]) == 0
    assert capsys.readouterr().out == "acme\tokta\n"
    assert main(["token", "create", "okta", "--tenant", "acme", *db]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert captured.err == "scimcore: token 'okta'; it is shown only this once:\n"
    assert main(["token", "list", *db]) == 0
    row = capsys.readouterr().out.split("\t")
    assert (row[0], row[1], row[3], row[4].strip()) == ("okta", "acme", "-", digest(token)[:12])
    assert main(["token", "rotate", "okta", "--tenant", "acme", "--overlap", "0", *db]) == 0
    rotated = capsys.readouterr().out.strip()
    assert Keys.sqlite(db[1]).digests("acme") == {digest(rotated): None}
    assert main(["token", "revoke", "okta", "--tenant", "acme", *db]) == 0
    assert main(["token", "revoke", "okta", "--tenant", "acme", *db]) == 1
    assert capsys.readouterr().err == "scimcore: there is no token 'okta'\n"
    assert main(["token", "create", "x", "--tenant", "nope", *db]) == 1
    assert capsys.readouterr().err == "scimcore: there is no tenant 'nope'\n"
    assert main(["tenant", "add", "Not-Valid", *db]) == 1
    assert "a tenant's name is 1 to 40" in capsys.readouterr().err
    assert main(["tenant", "remove", "acme", *db]) == 0
    assert main(["tenant", "remove", "acme", *db]) == 1


def test_serve_failures_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere" / "s.db"
    assert main(["serve", "--db", str(missing)]) == 1
    assert capsys.readouterr().err == (
        f"scimcore: --db {missing}: the folder {str(missing.parent)!r} does not exist\n"
    )
    assert main(["serve", "--postgres", "postgresql://postgres@127.0.0.1:1/x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("scimcore: cannot connect to PostgreSQL: ") and err.count("\n") == 1
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--db", str(tmp_path / "s.db"), "--port", str(port)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"scimcore: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert captured.out == ""  # no banner before a failed bind


def test_command_failures_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere" / "s.db"
    assert main(["token", "list", "--db", str(missing)]) == 1
    assert capsys.readouterr().err == (
        f"scimcore: --db {missing}: the folder {str(missing.parent)!r} does not exist\n"
    )
    assert main(["tenant", "list", "--db", str(tmp_path)]) == 1  # a folder, not a file
    assert capsys.readouterr().err == f"scimcore: --db {tmp_path}: unable to open database file\n"
    unreachable = "postgresql://postgres@127.0.0.1:1/x"
    for command in (["db", "init", unreachable], ["token", "list", "--postgres", unreachable]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.startswith("scimcore: cannot connect to PostgreSQL: "), err
        assert err.count("\n") == 1
