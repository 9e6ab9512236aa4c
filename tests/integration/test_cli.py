"""The admin CLI through typer's runner, against a real store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from naturhome_sync.cli import app
from naturhome_sync.runtime import Runtime
from naturhome_sync.settings import load_settings
from naturhome_sync.store import NewEvent

runner = CliRunner()


@pytest.fixture
def env_file(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "cli.env"
    path.write_text(
        f"NATURHOME_DATABASE__URL={database_url}\n"
        f"NATURHOME_STATE_DIR={tmp_path / 'state'}\n"
        'NATURHOME_PLUGINS=["naturhome_sync.testing"]\n'
        "NATURHOME_WORKER__MAX_ATTEMPTS=2\n"
        "NATURHOME_RETRY__BASE_SECONDS=0.01\n"
        "NATURHOME_LOG__LEVEL=WARNING\n"
    )
    return path


def cli(env_file: Path | None, *args: str) -> Any:
    prefix = ["--env-file", str(env_file)] if env_file else []
    return runner.invoke(app, [*prefix, *args])


@pytest.fixture
def store(env_file: Path) -> Any:
    assert cli(env_file, "db", "upgrade").exit_code == 0
    runtime = Runtime(load_settings(env_file))
    yield runtime
    runtime.close()


def test_version_and_help() -> None:
    version = cli(None, "version")
    assert version.exit_code == 0
    assert version.stdout.startswith("naturhome-sync 0.")
    result = cli(None, "--help")
    assert result.exit_code == 0
    for command in (
        "serve",
        "api",
        "worker",
        "scheduler",
        "run",
        "events",
        "replay",
        "db",
        "config",
        "version",
        "demo",
    ):
        assert command in result.stdout


def test_usage_errors_exit_2(env_file: Path) -> None:
    assert cli(env_file, "no-such-command").exit_code == 2
    assert cli(env_file, "events", "list", "--status", "lost").exit_code == 2
    assert cli(env_file, "replay").exit_code == 2  # neither ids nor --status
    assert cli(env_file, "run", "housekeeping", "--payload", "[1]").exit_code == 2


def test_invalid_configuration_exits_1_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("NATURHOME_HTTP__PORT=eighty\n")
    result = cli(bad, "config", "show")
    assert result.exit_code == 1
    assert "NATURHOME_HTTP__PORT" in result.stderr
    assert "eighty" in result.stderr


def test_config_show_redacts_secrets(tmp_path: Path) -> None:
    path = tmp_path / "secret.env"
    path.write_text("NATURHOME_DATABASE__URL=postgresql://svc:hunter2@db/nh\n")
    result = cli(path, "config", "show", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["database"]["url"] == "postgresql://svc:**********@db/nh"
    assert "hunter2" not in result.stdout


def test_db_upgrade_and_status(env_file: Path) -> None:
    before = cli(env_file, "db", "status")
    assert before.exit_code == 1
    assert "naturhome-sync db upgrade" in before.stdout
    upgraded = cli(env_file, "db", "upgrade")
    assert upgraded.exit_code == 0
    assert "(current)" in upgraded.stdout
    assert cli(env_file, "db", "status").exit_code == 0


def test_run_a_flow_through_the_inbox_and_dry_run(env_file: Path, store: Runtime) -> None:
    result = cli(env_file, "run", "housekeeping")
    assert result.exit_code == 0, result.output
    assert "done" in result.stdout and "events_purged: 0" in result.stdout
    (event,) = store.inbox.list(flow="housekeeping")
    assert (event.source, event.status) == ("cli", "done")
    dry = cli(env_file, "run", "probe", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.stdout
    assert store.inbox.list(flow="probe") == []  # a dry run stores nothing


def test_run_failure_and_unknown_flow_exit_1(env_file: Path, store: Runtime) -> None:
    failing = cli(env_file, "run", "probe", "--payload", '{"fail": "permanent_data"}')
    assert failing.exit_code == 1
    assert "permanent_data" in failing.stderr
    unknown = cli(env_file, "run", "nope")
    assert unknown.exit_code == 1
    assert "no flow named 'nope'" in unknown.stderr


def test_events_list_show_and_replay(env_file: Path, store: Runtime) -> None:
    ids = [
        store.inbox.enqueue(
            NewEvent(
                source="hubspot",
                kind="form",
                flow="probe",
                dedupe_key=f"k{i}",
                payload={"fail": "permanent_data"},
            )
        ).event_id
        for i in range(2)
    ]
    ok = store.inbox.enqueue(NewEvent(source="wrike", kind="x", flow="probe", dedupe_key="w"))
    worker = store.new_worker()
    while worker.run_once():
        pass

    listed = json.loads(cli(env_file, "events", "list", "--status", "dead", "--json").stdout)
    assert sorted(e["id"] for e in listed) == sorted(ids)
    assert listed[0]["error_category"] == "permanent_data"
    table = cli(env_file, "events", "list", "--source", "wrike")
    assert table.exit_code == 0 and "wrike" in table.stdout and "hubspot" not in table.stdout
    assert json.loads(cli(env_file, "events", "list", "--since", "1h", "--json").stdout)

    shown = json.loads(cli(env_file, "events", "show", str(ids[0]), "--json").stdout)
    assert shown["status"] == "dead" and shown["runs"][0]["status"] == "dead"
    human = cli(env_file, "events", "show", str(ids[0]))
    assert "probe asked to fail" in human.stdout
    assert cli(env_file, "events", "show", "999999").exit_code == 1

    dry = cli(env_file, "replay", "--status", "dead", "--dry-run")
    assert dry.exit_code == 0 and "would replay 2 event(s)" in dry.stdout
    assert store.inbox.get(ids[0]).status == "dead"  # type: ignore[union-attr]
    busy = cli(env_file, "replay", str(ok.event_id))
    assert busy.exit_code == 0  # a done event may be replayed on purpose
    replayed = cli(env_file, "replay", "--status", "dead", "--source", "hubspot", "--by", "ops")
    assert replayed.exit_code == 0 and "replayed 2 event(s)" in replayed.stdout
    event = store.inbox.get(ids[1])
    assert event is not None
    assert (event.status, event.attempts, event.replayed_by) == ("pending", 0, "ops")
    again = cli(env_file, "replay", str(ids[1]))
    assert again.exit_code == 1 and "already queued" in again.stderr


def test_flows_list_shows_schedules(env_file: Path) -> None:
    result = cli(env_file, "flows", "list")
    assert result.exit_code == 0
    assert "housekeeping (0 3 * * *)" in result.stdout
    assert "probe (on demand)" in result.stdout


def test_bad_schedule_stops_start_up_naming_the_flow(env_file: Path) -> None:
    with env_file.open("a") as f:
        f.write("NATURHOME_SCHEDULES__HOUSEKEEPING=every tuesday\n")
    result = cli(env_file, "flows", "list")
    assert result.exit_code == 1
    assert "housekeeping" in result.stderr and "every tuesday" in result.stderr


def test_schedule_for_an_unknown_flow_is_refused(env_file: Path) -> None:
    with env_file.open("a") as f:
        f.write("NATURHOME_SCHEDULES__HOUSKEEPING=every 1h\n")
    result = cli(env_file, "flows", "list")
    assert result.exit_code == 1
    assert "no flow named 'houskeeping'" in result.stderr


@pytest.mark.postgres
def test_serve_refuses_an_out_of_date_postgres_schema(postgres_url: str, tmp_path: Path) -> None:
    path = tmp_path / "pg.env"
    path.write_text(f"NATURHOME_DATABASE__URL={postgres_url}\n")
    result = cli(path, "serve")
    assert result.exit_code == 1
    assert "run `naturhome-sync db upgrade`" in result.stderr


def test_sqlite_store_is_upgraded_by_serve_components(tmp_path: Path) -> None:
    path = tmp_path / "lite.env"
    path.write_text(f"NATURHOME_STATE_DIR={tmp_path / 'fresh'}\n")
    result = cli(path, "events", "list", "--json")  # any command that opens the store
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert (tmp_path / "fresh" / "naturhome.db").exists()


def test_mappings_check_passes_on_the_shipped_files() -> None:
    result = cli(None, "mappings", "check")
    assert result.exit_code == 0, result.output
    assert "hubspot_quote_request.yaml" in result.stdout


def test_mappings_check_names_file_and_key_of_each_problem(tmp_path: Path) -> None:
    from naturhome_sync.paths import shipped_dir

    mappings = tmp_path / "mappings"
    mappings.mkdir()
    shipped = (shipped_dir("mappings") / "hubspot_quote_request.yaml").read_text()
    assert "Budget__c:" in shipped
    (mappings / "hubspot_quote_request.yaml").write_text(
        shipped.replace("Budget__c:", "Budjet__c:", 1)
    )
    env = tmp_path / "check.env"
    env.write_text(f"NATURHOME_MAPPINGS_DIR={mappings}\n")
    result = cli(env, "mappings", "check")
    assert result.exit_code == 1
    assert "hubspot_quote_request.yaml" in result.stderr
    assert "Budjet__c" in result.stderr


def test_an_unreachable_store_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "down.env"
    path.write_text(
        "NATURHOME_DATABASE__URL=postgresql://nobody@127.0.0.1:1/none?connect_timeout=1\n"
    )
    listed = cli(path, "events", "list")
    assert listed.exit_code == 1
    assert "store unreachable (OperationalError)" in listed.stderr
    assert "Traceback" not in listed.output
    doctor = cli(path, "doctor", "--json")
    assert doctor.exit_code == 1
    findings = json.loads(doctor.stdout)["findings"]
    store = [f for f in findings if f["area"] == "store"]
    assert store[0]["severity"] == "error"
    assert store[0]["message"].startswith("store unreachable")


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["serve"], "HTTP, scheduler and workers"),
        (["api"], "HTTP app"),
        (["worker"], "--count"),
        (["scheduler"], "running two is safe"),
        (["run"], "--dry-run"),
        (["events", "list"], "--since"),
        (["events", "show"], "every attempt"),
        (["replay"], "--status"),
        (["db", "upgrade"], "migrate"),
        (["config", "show"], "redacted"),
        (["doctor"], "Exit 1"),
        (["mappings", "check"], "schema"),
        (["sandbox", "up"], "--state-dir"),
        (["demo"], "--keep"),
    ],
)
def test_every_command_explains_itself(command: list[str], says: str) -> None:
    result = cli(None, *command, "--help")
    assert result.exit_code == 0, result.output
    assert says in result.stdout
