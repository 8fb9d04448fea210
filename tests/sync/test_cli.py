"""``scimcore sync`` on the command line: plans, tables, exit statuses, bad input."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import scimcore.sync
from scimcore.asgi import create_app
from scimcore.cli import main
from scimcore.models import User
from scimcore.service import ScimService
from scimcore.stores import SQLiteStore
from scimcore.sync import StoreEndpoint
from tests._live import LiveServer
from tests.sync._faulty import Faulty


def test_the_public_names() -> None:
    assert scimcore.sync.__all__ == [
        "Action",
        "ChangeFeed",
        "ClientEndpoint",
        "DeletionThreshold",
        "Endpoint",
        "Failure",
        "Links",
        "Match",
        "Plan",
        "Report",
        "Rules",
        "StateMismatch",
        "StoreEndpoint",
        "Sync",
        "SyncState",
        "ThresholdExceeded",
        "as_endpoint",
        "print_progress",
    ]


def seed(path: Path, names: list[str]) -> None:
    store = SQLiteStore(str(path))
    for name in names:
        store.create(User(user_name=name, title=f"{name}'s title"))
    store.close()


def names(path: Path) -> list[str]:
    store = SQLiteStore(str(path))
    try:
        return sorted(u.user_name or "" for u in StoreEndpoint(store).read(User))
    finally:
        store.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["sync", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_dry_run_then_apply_then_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target, state = tmp_path / "hr.sqlite3", tmp_path / "app.sqlite3", tmp_path / "state"
    seed(source, ["bjensen", "jsmith"])
    common = ["--from", str(source), "--to", str(target), "--state", str(state)]
    status, out, err = run(capsys, *common, "--dry-run")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        f"full sync {source} → {target}: 2 create",
        "  create     User  'bjensen' → target",
        "  create     User  'jsmith' → target",
        "dry run: nothing written",
    ]
    assert names(target) == []
    status, out, err = run(capsys, *common)
    assert (status, err) == (0, "")
    assert out.splitlines()[-2:] == [
        "type   to          create       link     update deactivate     delete  failed",
        "User   target           2          0          0          0          0       0",
    ]
    assert names(target) == ["bjensen", "jsmith"]
    status, out, _ = run(capsys, *common)
    assert status == 0
    assert out.splitlines() == [
        f"incremental sync {source} → {target}: nothing to do",
        "nothing written",
    ]


def test_over_the_threshold_nothing_is_written_and_the_status_is_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target, state = tmp_path / "hr.sqlite3", tmp_path / "app.sqlite3", tmp_path / "state"
    seed(source, [f"user{i}" for i in range(5)])
    common = ["--from", str(source), "--to", str(target), "--state", str(state)]
    assert run(capsys, *common)[0] == 0
    store = SQLiteStore(str(source))
    for user in list(StoreEndpoint(store).read(User))[:3]:
        store.delete(User, user.id or "")
    store.create(User(user_name="newcomer"))
    store.close()
    status, _, err = run(capsys, *common, "--full", "--removal", "delete", "--max-removals", "40%")
    assert status == 1
    assert err == (
        "scimcore sync: stopped before writing anything: User: 3 removals planned, 60% of 5,"
        " more than the threshold of 40%; nothing was written (raise the threshold, or apply"
        " with force=True / --force, after reviewing the plan)\n"
    )
    assert names(target) == [f"user{i}" for i in range(5)]
    status, _, _ = run(capsys, *common, "--full", "--removal", "delete", "--force")
    assert status == 0
    assert names(target) == ["newcomer", "user3", "user4"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--from", "nope.sqlite3", "--to", "x.sqlite3"],
            "no SQLite file 'nope.sqlite3' to sync from",
        ),
        (
            ["--from", "ftp://u:secret@host/x", "--to", "x.sqlite3"],
            "'ftp://u@host/x' is neither a SCIM server (http://, https://), a PostgreSQL DSN"
            " (postgresql://) nor a SQLite file",
        ),
        (["--from", "http://127.0.0.1:9/scim/v2", "--to", "x.sqlite3"], "ConnectError: "),
    ],
)
def test_bad_input_is_one_line(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Any,
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == ""
    assert err.startswith(f"scimcore sync: {message}") and err.count("\n") == 1


def test_a_failed_write_is_in_the_table_and_the_status_is_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "hr.sqlite3"
    seed(source, ["bjensen", "jsmith", "tdoe"])
    store = SQLiteStore(str(tmp_path / "app.sqlite3"))
    # The bulk request of the three creates is refused, then the first create sent alone.
    app = Faulty(create_app(ScimService(store), prefix="/scim/v2"), {0: "403", 1: "403"})
    logging.getLogger("uvicorn.error").disabled = True
    try:
        with LiveServer(app) as port:
            url = f"http://127.0.0.1:{port}/scim/v2"
            state = str(tmp_path / "state")
            status, out, _ = run(capsys, "--from", str(source), "--to", url, "--state", state)
            assert status == 1
            assert out.splitlines()[-4:] == [
                "type   to          create       link     update deactivate     delete  failed",
                "User   target           2          0          0          0          0       1",
                "1 failure(s):",
                "  create User 'bjensen': 403 busy",
            ]
            status, out, _ = run(capsys, "--from", str(source), "--to", url, "--state", state)
            assert status == 0 and "User   target           1" in out
    finally:
        logging.getLogger("uvicorn.error").disabled = False
        store.close()
    assert names(tmp_path / "app.sqlite3") == ["bjensen", "jsmith", "tdoe"]
