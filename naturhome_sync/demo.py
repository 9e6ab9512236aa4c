"""``naturhome-sync demo``: the whole story, played on a throw-away local state.

Each chapter shows one part of what exists, through the same paths production uses (HTTP,
the inbox, the workers, the connectors against the local emulators), and prints what
happened. Chapters are added as the service grows; the demo fails (exit 1) if a step does
not end as the story says.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from rich.console import Console
from rich.rule import Rule

from connectors.salesforce_values import soql_quote
from naturhome_sync.runtime import Runtime
from naturhome_sync.service import Service
from naturhome_sync.settings import load_settings
from naturhome_sync.store.inbox import NewEvent, utcnow
from naturhome_sync.store.tables import inbox_events


class DemoFailure(Exception):
    pass


@dataclass
class Stage:
    console: Console
    state_dir: Path
    runtime: Runtime
    service: Service
    environment: Any
    notes: dict[str, Any] = field(default_factory=dict)

    def sandbox_stats(self, system: str = "salesforce") -> dict[str, Any]:
        emulator = getattr(self.environment, system)
        stats: dict[str, Any] = requests.get(
            f"{emulator.base_url}/__sandbox/stats", timeout=5
        ).json()
        return stats

    def api_calls(self) -> int:
        """Salesforce API calls so far (the emulator counts them as an org does)."""
        return int(self.sandbox_stats()["api_usage"]["used"])

    def api_usage(self) -> str:
        usage = self.sandbox_stats()["api_usage"]
        return f"{usage['used']} of {usage['max']} daily requests"

    def wait_for(self, event_id: int, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.runtime.inbox.get(event_id)
            if event and event.status in ("done", "dead"):
                return event.status
            time.sleep(0.05)
        raise DemoFailure(f"event {event_id} did not finish within {timeout:.0f}s")

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)


def chapter_runtime(stage: Stage) -> None:
    """The runtime: events in, workers out, the scheduler's ticks, health and metrics."""
    inbox = stage.runtime.inbox
    stage.say("Six deliveries arrive; one is a duplicate and is stored once.")
    ids = []
    for key in ("a", "b", "c", "d", "e", "a"):
        result = inbox.enqueue(
            NewEvent(source="demo", kind="probe", flow="probe", dedupe_key=f"demo-{key}")
        )
        ids.append(result.event_id)
        marker = "stored" if result.created else "duplicate, already stored as"
        stage.say(f"  delivery demo-{key}: {marker} event {result.event_id}")
    for event_id in sorted(set(ids)):
        stage.wait_for(event_id)
    stage.say(f"The worker processed {len(set(ids))} events, each once.")

    stage.say("Pretend they were processed 40 days ago, then let the 03:00 (Brussels) tick fire.")
    ids = [i for i in ids if stage.runtime.inbox.get(i) is not None]
    with stage.runtime.engine.begin() as conn:
        conn.execute(
            inbox_events.update()
            .where(inbox_events.c.id.in_(set(ids)))
            .values(finished_at=utcnow() - timedelta(days=40))
        )
    scheduler = stage.runtime.scheduler()
    tick_time = utcnow().replace(hour=2, minute=0, second=0, microsecond=0)
    first = scheduler.enqueue_tick("housekeeping", tick_time)
    second = scheduler.enqueue_tick("housekeeping", tick_time)  # a second scheduler, same tick
    stage.say(
        f"  two schedulers enqueue tick {tick_time:%Y-%m-%d %H:%M} UTC: event {first.event_id}"
        f" ({'new' if first.created else 'duplicate'}), event {second.event_id}"
        f" ({'new' if second.created else 'duplicate'})"
    )
    if stage.wait_for(first.event_id) != "done":
        raise DemoFailure("housekeeping did not succeed")
    run = stage.runtime.inbox.runs_of(first.event_id)[-1]
    stage.say(f"  housekeeping: {run['summary']}")
    if run["counters"].get("events_purged") != len(set(ids)):
        raise DemoFailure(f"expected {len(set(ids))} purged events, got {run['counters']}")

    base = stage.service.url
    health = requests.get(f"{base}/healthz", timeout=5).json()
    ready = requests.get(f"{base}/readyz", timeout=5).json()
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    stage.say(f"  GET /healthz -> {health['status']}, GET /readyz -> {ready['status']}")
    interesting = [
        line
        for line in metrics.splitlines()
        if line.startswith(("naturhome_sync_events_processed_total", "naturhome_sync_queue_events"))
    ]
    stage.say("  GET /metrics (excerpt):")
    for line in interesting:
        stage.say(f"    {line}")


def chapter_salesforce(stage: Stage) -> None:
    """The emulated org: the schema contract checked like a real org, the demo data, API usage."""
    from naturhome_sync.doctor import diagnose

    report = diagnose(stage.runtime)
    matched = [f.subject for f in report.findings if f.area == "schema" and f.severity == "ok"]
    stage.say(
        f"doctor: {len(matched)} objects match the schema contract in salesforce/, "
        f"{report.count('error')} error(s), {report.count('warning')} warning(s)."
    )
    if not report.ok:
        raise DemoFailure(
            "doctor found problems: "
            + "; ".join(
                f"{f.subject}: {f.message}" for f in report.findings if f.severity == "error"
            )
        )
    client = stage.runtime.services.salesforce
    estimators = client.query(
        "SELECT Name, Estimator_Countries__c, Estimator_Capacity__c FROM User "
        "WHERE Is_Estimator__c = true ORDER BY Name"
    )
    stage.say("Estimators in the demo org:")
    for row in estimators:
        stage.say(
            f"  {row['Name']}: {row['Estimator_Countries__c']}, "
            f"capacity {int(row['Estimator_Capacity__c'])}"
        )
    items = client.count("SELECT COUNT() FROM Work_Item__c")
    templates = client.count("SELECT COUNT() FROM Billing_Tranche_Template__c")
    stage.say(f"Catalogue: {items} work items, {templates} billing-plan tranches.")
    stage.say(f"Salesforce API usage so far: {stage.api_usage()}.")


def _plan_pdf() -> bytes:
    """A one-page PDF "ground-floor plan", as a client would upload."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(72, 780, "Maison Dupont - plan du rez-de-chaussee")
    page.rect(72, 400, 400, 300)
    page.line(272, 400, 272, 700)
    page.setFont("Helvetica", 11)
    page.drawString(110, 560, "Sejour 42 m2")
    page.drawString(310, 560, "Cuisine 18 m2")
    page.showPage()
    page.save()
    return buffer.getvalue()


def chapter_intake(stage: Stage) -> None:
    """A quote request on the website becomes a scored dossier in an estimator's queue."""
    import base64

    from sandbox.demo_data import quote_request

    hubspot = stage.environment.hubspot
    values = quote_request("claire.dupont@example.be", utcnow().date())
    pdf = _plan_pdf()
    stage.say(
        "Claire Dupont fills in the quote form on naturhome.be and uploads her plan "
        f"({len(pdf)} bytes of PDF); HubSpot sends the signed webhook."
    )
    calls_before = stage.api_calls()
    answer = requests.post(
        f"{hubspot.base_url}/__sandbox/submissions",
        json={
            "form_guid": hubspot.config.form_guids[0],
            "values": [{"name": k, "value": v} for k, v in values.items()],
            "files": [{"name": "plan-rez.pdf", "content_base64": base64.b64encode(pdf).decode()}],
            "deliver": "webhook",
        },
        timeout=30,
    ).json()
    stage.say(
        f"  webhook answered {answer['delivery']['status']}: stored before "
        "acknowledged (the service does the work afterwards)"
    )
    event = stage.runtime.inbox.find("hubspot", f"submission:{answer['conversion_id']}")
    if event is None:
        raise DemoFailure("the webhook did not store the submission")
    if stage.wait_for(event.id) != "done":
        failed = stage.runtime.inbox.get(event.id)
        raise DemoFailure(f"the intake failed: {failed.last_error if failed else '?'}")
    intake_calls = stage.api_calls() - calls_before
    client = stage.runtime.services.salesforce
    (opp,) = client.query(
        "SELECT Id, Name, StageName, LeadSource, Score__c, Priority__c, Score_Breakdown__c, "
        "Owner.Name, Account.Name, Budget__c, Site_City__c, Site_Country__c FROM Opportunity "
        f"WHERE HubSpot_Submission_Id__c = {soql_quote(answer['conversion_id'])}"
    )
    budget = f"{int(opp['Budget__c']):,}".replace(",", " ")
    stage.say(
        f"Salesforce now holds the dossier [bold]{opp['Name']}[/] for "
        f"{opp['Account']['Name']} (owner {opp['Owner']['Name']}), stage "
        f"{opp['StageName']}, source {opp['LeadSource']}, budget {budget} €, "
        f"site {opp['Site_City__c']} ({opp['Site_Country__c']})."
    )
    stage.say(f"  score {int(opp['Score__c'])} -> priority {opp['Priority__c']}:")
    for line in str(opp["Score_Breakdown__c"] or "").splitlines():
        stage.say(f"    {line}")
    files = client.query(
        "SELECT ContentDocument.Title, ContentDocument.ContentSize FROM ContentDocumentLink "
        f"WHERE LinkedEntityId = {soql_quote(opp['Id'])}"
    )
    for link in files:
        stage.say(
            f"  file: {link['ContentDocument']['Title']} "
            f"({link['ContentDocument']['ContentSize']} bytes)"
        )
    tasks = client.query(f"SELECT Subject FROM Task WHERE WhatId = {soql_quote(opp['Id'])}")
    for task in tasks:
        stage.say(f"  activity: {task['Subject']}")
    stage.say(
        f"  Salesforce API calls for this intake: {intake_calls} (target: 2 for a new "
        "client with one file)"
    )
    contact_id = answer["contact_id"]
    deadline = time.monotonic() + 20
    written_back = None
    while time.monotonic() < deadline and not written_back:
        written_back = (
            requests.get(
                f"{hubspot.base_url}/crm/v3/objects/contacts/{contact_id}",
                params={"properties": "salesforce_opportunity_id"},
                headers={"Authorization": f"Bearer {hubspot.config.access_token}"},
                timeout=5,
            )
            .json()["properties"]
            .get("salesforce_opportunity_id")
        )
        time.sleep(0.1)
    if written_back != opp["Id"]:
        raise DemoFailure("the HubSpot contact did not get the opportunity id back")
    stage.say(f"HubSpot contact {contact_id} now links to opportunity {written_back}.")

    stage.say("The estimator assignment runs on schedule (every 2 s in the sandbox)...")
    deadline = time.monotonic() + 30
    assigned: dict[str, Any] = {}
    while time.monotonic() < deadline and not assigned.get("Estimator__c"):
        assigned = (
            client.get("Opportunity", opp["Id"], ["Estimator__c", "StageName", "Assigned_At__c"])
            or {}
        )
        time.sleep(0.2)
    if not assigned.get("Estimator__c"):
        raise DemoFailure("nobody was assigned the dossier")
    (estimator,) = client.query(
        f"SELECT Name FROM User WHERE Id = {soql_quote(assigned['Estimator__c'])}"
    )
    (todo,) = client.query(
        f"SELECT Subject, ActivityDate FROM Task WHERE WhatId = {soql_quote(opp['Id'])} "
        f"AND OwnerId = {soql_quote(assigned['Estimator__c'])}"
    )
    stage.say(
        f"  assigned to [bold]{estimator['Name']}[/] "
        "(covers BE; fewest open dossiers, most room left), "
        f"stage {assigned['StageName']}; his task: {todo['Subject']} "
        f"(due {todo['ActivityDate']})"
    )


CHAPTERS: list[tuple[str, Callable[[Stage], None]]] = [
    ("1. The runtime", chapter_runtime),
    ("2. The Salesforce org (emulated)", chapter_salesforce),
    ("3. A quote request becomes a dossier", chapter_intake),
]


def play(console: Console, *, state_dir: Path | None = None) -> int:
    from sandbox.environment import SandboxEnvironment

    with ExitStack() as stack:
        if state_dir is None:
            state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nh-demo-")))
        environment = SandboxEnvironment(state_dir.resolve(), poll_seconds=2)
        environment.start(seed=True)
        stack.callback(environment.stop)
        settings = load_settings(
            environment.env_file,
            plugins=["naturhome_sync.testing"],
            worker={"poll_interval_seconds": 0.1, "shutdown_grace_seconds": 5},
        )
        runtime = Runtime(settings)
        stack.callback(runtime.close)
        runtime.ensure_schema()
        service = Service(runtime).start()
        stack.callback(service.stop)
        stage = Stage(
            console=console,
            state_dir=state_dir,
            runtime=runtime,
            service=service,
            environment=environment,
        )
        console.print(f"naturhome-sync demo - state in {state_dir}, service at {service.url}")
        for title, chapter in CHAPTERS:
            console.print(Rule(title))
            before = stage.api_calls()
            try:
                chapter(stage)
            except DemoFailure as exc:
                console.print(f"[bold red]demo failed:[/] {exc}")
                return 1
            console.print(
                f"[dim]({stage.api_calls() - before} Salesforce API call(s) in this chapter)[/]"
            )
        with runtime.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(inbox_events)).scalar()
        console.print(Rule())
        console.print(f"The story ends with {total} event(s) in the inbox. All steps passed.")
    return 0
