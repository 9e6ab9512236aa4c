"""``naturhome-sync``: the admin's command line.

Exit codes: 0 success, 1 failure (including invalid configuration), 2 usage error.
``--env-file`` picks the environment (one machine may hold several).
"""

from __future__ import annotations

import getpass
import json
import re
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from naturhome_sync import __version__
from naturhome_sync.cli_support import CliState, err, fail, handled_errors, out, runtime_for
from naturhome_sync.cli_tools import register as register_tools
from naturhome_sync.errors import ConfigurationError
from naturhome_sync.settings import redacted

app = typer.Typer(
    name="naturhome-sync",
    help="Keeps Naturhome's Salesforce org complete: intake, mirrors, payment plans, invoices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
events_app = typer.Typer(help="Inspect the inbox.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
flows_app = typer.Typer(help="List the flows this process knows.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(flows_app, name="flows")
register_tools(app)


@app.callback()
def main_options(
    ctx: typer.Context,
    env_file: Annotated[
        Path | None,
        typer.Option("--env-file", help="Read settings from this file instead of ./.env."),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")
    ] = None,
) -> None:
    ctx.obj = CliState(env_file=env_file, log_level=log_level)


# -- processes -----------------------------------------------------------------------------


def _run_service(ctx: typer.Context, *, api: bool, workers: int | None, scheduler: bool) -> None:
    from naturhome_sync.service import Service

    with runtime_for(ctx) as runtime:
        service = Service(runtime, api=api, workers=workers, scheduler=scheduler)
        with handled_errors():
            service.start()
        if api:
            err.print(f"listening on {service.url}", highlight=False)
        service.run_until_signal()


@app.command()
def serve(ctx: typer.Context) -> None:
    """Run HTTP, scheduler and workers in one process (the default deployment).

    An SQLite store is upgraded in place; a PostgreSQL store must be upgraded first
    with `naturhome-sync db upgrade`.
    """
    _run_service(ctx, api=True, workers=None, scheduler=True)


@app.command()
def api(ctx: typer.Context) -> None:
    """Run only the HTTP app (webhooks, health, metrics)."""
    _run_service(ctx, api=True, workers=0, scheduler=False)


@app.command()
def worker(
    ctx: typer.Context,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Worker threads (default: settings).")
    ] = None,
) -> None:
    """Run only workers (start several, on several machines, with PostgreSQL)."""
    _run_service(ctx, api=False, workers=count, scheduler=False)


@app.command()
def scheduler(ctx: typer.Context) -> None:
    """Run only the scheduler: it enqueues ticks; running two is safe (each tick once)."""
    _run_service(ctx, api=False, workers=0, scheduler=True)


@app.command()
def run(
    ctx: typer.Context,
    flow: Annotated[str, typer.Argument(help="Flow name (see `naturhome-sync flows list`).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute and report, store and write nothing.")
    ] = False,
    payload: Annotated[
        str | None, typer.Option("--payload", help="JSON object handed to the flow.")
    ] = None,
) -> None:
    """Run FLOW now, through the inbox (recorded, retried and replayable like any event)."""
    data = _parse_payload(payload)
    with runtime_for(ctx, ensure_schema=not dry_run) as runtime, handled_errors():
        if dry_run:
            result = runtime.dry_run(flow, payload=data)
            out.print(f"[bold]{flow}[/] (dry run): {result.summary or 'done'}", highlight=False)
            _print_counters(result.counters)
            return
        outcome = runtime.run_flow(flow, payload=data)
        colour = {"done": "green", "retry": "yellow"}.get(outcome.status, "red")
        out.print(
            f"[bold]{flow}[/] event {outcome.event_id}: [{colour}]{outcome.status}[/]"
            + (f" — {outcome.summary}" if outcome.summary else ""),
            highlight=False,
        )
        _print_counters(outcome.counters)
        if outcome.status != "done":
            fail(f"{outcome.category}: {outcome.error}")


def _parse_payload(payload: str | None) -> dict[str, Any]:
    if not payload:
        return {}
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        fail(f"--payload is not valid JSON: {exc}", code=2)
    if not isinstance(data, dict):
        fail("--payload must be a JSON object", code=2)
    return data


def _print_counters(counters: dict[str, int]) -> None:
    for name, value in sorted(counters.items()):
        out.print(f"  {name}: {value}", highlight=False)


# -- events --------------------------------------------------------------------------------

_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")


def parse_since(value: str | None) -> datetime | None:
    """``2h``/``3d``/``30m`` ago, or an ISO date/datetime (UTC if no offset)."""
    if not value:
        return None
    match = _RELATIVE.match(value.strip())
    if match:
        seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        return datetime.now(UTC) - timedelta(seconds=seconds)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"--since {value!r}: use 2h, 3d, 30m or an ISO date like 2026-12-01", code=2)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


StatusOption = Annotated[
    str | None,
    typer.Option("--status", help="pending, running, done or dead."),
]


def _check_status(status: str | None) -> None:
    if status and status not in ("pending", "running", "done", "dead"):
        fail(f"--status {status!r}: use pending, running, done or dead", code=2)


@events_app.command("list")
def events_list(
    ctx: typer.Context,
    status: StatusOption = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
    flow: Annotated[str | None, typer.Option("--flow")] = None,
    since: Annotated[str | None, typer.Option("--since", help="2h, 3d or an ISO date.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output for scripts.")] = False,
) -> None:
    """List inbox events, newest first."""
    from naturhome_sync.cli_output import event_dict, events_table

    _check_status(status)
    when = parse_since(since)
    with runtime_for(ctx) as runtime:
        found = runtime.inbox.list(status=status, source=source, flow=flow, since=when, limit=limit)
    if as_json:
        out.print_json(data=[event_dict(e) for e in found])
    else:
        out.print(events_table(found))


@events_app.command("show")
def events_show(
    ctx: typer.Context,
    event_id: Annotated[int, typer.Argument(help="Event id (from `events list`).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show one event: payload, last error, every attempt."""
    from naturhome_sync.cli_output import event_detail, event_dict, run_dict

    with runtime_for(ctx) as runtime:
        event = runtime.inbox.get(event_id)
        if event is None:
            fail(f"no event {event_id}")
        runs = runtime.inbox.runs_of(event_id)
    if as_json:
        out.print_json(data={**event_dict(event), "runs": [run_dict(r) for r in runs]})
    else:
        event_detail(out, event, runs)


@app.command()
def replay(
    ctx: typer.Context,
    event_ids: Annotated[list[int] | None, typer.Argument(help="Event ids to replay.")] = None,
    status: StatusOption = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
    flow: Annotated[str | None, typer.Option("--flow")] = None,
    since: Annotated[str | None, typer.Option("--since", help="2h, 3d or an ISO date.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be replayed.")
    ] = (False),
    by: Annotated[str | None, typer.Option("--by", help="Who asks (default: user@host).")] = None,
) -> None:
    """Re-queue failed (or done) events with a fresh attempt budget.

    Give ids, or select with --status dead [--source S] [--flow F] [--since T].
    """
    _check_status(status)
    if not event_ids and not status:
        fail("give event ids or --status (e.g. --status dead)", code=2)
    if status and status not in ("dead", "done"):
        fail("only dead or done events can be replayed", code=2)
    who = by or f"{getpass.getuser()}@{socket.gethostname()}"
    with runtime_for(ctx) as runtime:
        if event_ids:
            selected = [e for e in (runtime.inbox.get(i) for i in event_ids) if e is not None]
            missing = sorted(set(event_ids) - {e.id for e in selected})
            if missing:
                fail(f"no event {', '.join(map(str, missing))}")
            busy = [e.id for e in selected if e.status in ("pending", "running")]
            if busy:
                fail(f"event {', '.join(map(str, busy))} is already queued or running")
        else:
            selected = runtime.inbox.list(
                status=status, source=source, flow=flow, since=parse_since(since), limit=None
            )
        ids = [e.id for e in selected]
        if dry_run:
            out.print(f"would replay {len(ids)} event(s): {_id_list(ids)}", highlight=False)
            return
        replayed = runtime.inbox.replay(ids, by=who)
    out.print(f"replayed {len(replayed)} event(s): {_id_list(replayed)}", highlight=False)


def _id_list(ids: list[int]) -> str:
    return ", ".join(map(str, ids)) if ids else "none"


# -- db, config, flows, version ------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the store's tables to what this version needs."""
    with runtime_for(ctx, ensure_schema=False) as runtime, handled_errors():
        state = runtime.upgrade()
    out.print(state.describe(), highlight=False)


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Say whether the store's schema is current (exit 1 if not)."""
    with runtime_for(ctx, ensure_schema=False) as runtime:
        state = runtime.schema_state()
    out.print(state.describe(), highlight=False)
    if not state.is_current:
        raise typer.Exit(1)


@config_app.command("show")
def config_show(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Print the effective configuration, secrets redacted."""
    with handled_errors():
        data = redacted(ctx.obj.settings())
    if as_json:
        out.print_json(data=data)
    else:
        import yaml

        out.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), highlight=False)


@flows_app.command("list")
def flows_list(ctx: typer.Context) -> None:
    """The flows this process knows and their effective schedules."""
    with runtime_for(ctx, ensure_schema=False) as runtime:
        for flow in runtime.registry:
            schedule = runtime.schedules.get(flow.name, "on demand")
            out.print(f"[bold]{flow.name}[/] ({schedule}): {flow.description}", highlight=False)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(f"naturhome-sync {__version__}", highlight=False)


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:  # raised outside a command (e.g. settings in a callback)
        err.print(f"error: {exc}")
        sys.exit(1)
