"""How the CLI shows events and runs: rich tables for people, plain dicts for ``--json``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from naturhome_sync.doctor import Report
from naturhome_sync.store import Event

_STATUS_STYLE = {"pending": "yellow", "running": "cyan", "done": "green", "dead": "bold red"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def event_dict(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in Event.__dataclass_fields__:
        value = getattr(event, name)
        data[name] = _iso(value) if isinstance(value, datetime) else value
    return data


def run_dict(run: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in run.items()}


def _short(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def events_table(events: list[Event]) -> Table:
    table = Table(title=f"{len(events)} event(s)", title_justify="left")
    for column in ("id", "status", "source", "kind", "flow", "att.", "received (UTC)", "error"):
        table.add_column(column, overflow="fold")
    for e in events:
        style = _STATUS_STYLE.get(e.status, "")
        error = f"{e.error_category}: {e.last_error}" if e.last_error else ""
        table.add_row(
            str(e.id),
            f"[{style}]{e.status}[/]",
            e.source,
            e.kind,
            e.flow,
            str(e.attempts),
            _short(e.received_at),
            error[:80],
        )
    return table


def event_detail(console: Console, event: Event, runs: list[dict[str, Any]]) -> None:
    style = _STATUS_STYLE.get(event.status, "")
    console.print(f"[bold]event {event.id}[/] [{style}]{event.status}[/]", highlight=False)
    for label, value in (
        ("source / kind", f"{event.source} / {event.kind}"),
        ("flow", event.flow),
        ("dedupe key", event.dedupe_key),
        ("correlation id", event.correlation_id),
        ("received", _short(event.received_at)),
        ("available", _short(event.available_at)),
        ("finished", _short(event.finished_at)),
        ("attempts", str(event.attempts)),
        (
            "lease",
            f"{event.lease_owner} until {_short(event.lease_expires_at)}"
            if event.lease_owner
            else "",
        ),
        (
            "replayed",
            f"{event.replay_count}x, last {_short(event.replayed_at)} by {event.replayed_by}"
            if event.replay_count
            else "",
        ),
        ("last error", f"{event.error_category}: {event.last_error}" if event.last_error else ""),
    ):
        if value:
            console.print(f"  {label:15} {value}", highlight=False)
    console.print("  payload:", highlight=False)
    console.print_json(json.dumps(event.payload, default=str))
    if runs:
        table = Table(title="attempts", title_justify="left")
        for column in ("#", "trigger", "worker", "started", "status", "counters", "error"):
            table.add_column(column, overflow="fold")
        for run in runs:
            table.add_row(
                str(run["attempt"]),
                run["trigger"],
                run["worker"] or "",
                _short(run["started_at"]),
                run["status"],
                json.dumps(run["counters"]) if run["counters"] else "",
                (run["error"] or "")[:120],
            )
        console.print(table)


_SEVERITY = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "error": "[bold red]error[/]"}


def doctor_report(console: Console, report: Report) -> None:
    table = Table(title="naturhome-sync doctor", title_justify="left")
    for column in ("", "area", "subject", "finding"):
        table.add_column(column, overflow="fold")
    for finding in report.findings:
        table.add_row(_SEVERITY[finding.severity], finding.area, finding.subject, finding.message)
    console.print(table)
    verdict = "[green]fit to run[/]" if report.ok else "[bold red]not fit to run[/]"
    console.print(
        f"{verdict}: {report.count('error')} error(s), {report.count('warning')} warning(s)",
        highlight=False,
    )
