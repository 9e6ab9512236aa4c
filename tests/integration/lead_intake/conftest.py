"""End-to-end harness of the lead intake: the sandbox emulators plus a running service.

One :class:`~sandbox.environment.SandboxEnvironment` per module (Salesforce and HubSpot
emulators, demo users seeded) and one in-process :class:`~naturhome_sync.service.Service`
built from its ``sandbox.env``: the real webhook route, the real workers, the real
simple-salesforce and hubspot-api-client clients, all over loopback HTTP. Each test starts
from empty emulators (users kept) and a drained inbox. The same on PostgreSQL with four
workers (one for the whole folder) serves ``test_postgres.py`` and the tests of other modules
parametrized onto both stores.

The service runs with a copy of the shipped configuration in which ``lead_intake.yaml``
caps files at 64 KiB and adds two owner rules (German sites to Sophie Weber, French sites to
a user the org does not have), and with short retry delays.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import pytest
import requests
import sqlalchemy as sa
from simple_salesforce import Salesforce

from connectors.salesforce import SalesforceClient
from connectors.salesforce_transport import emulator_session
from naturhome_sync.logs import configure_logging
from naturhome_sync.paths import shipped_dir
from naturhome_sync.runtime import Runtime
from naturhome_sync.service import Service
from naturhome_sync.settings import load_settings
from naturhome_sync.store.db import reading
from naturhome_sync.store.inbox import Event, utcnow
from naturhome_sync.store.tables import inbox_events
from sandbox.demo_data import months_ahead
from sandbox.demo_data import quote_request as demo_quote_request
from sandbox.environment import SandboxEnvironment
from sandbox.hubspot import DeliveryResult, send_webhook, workflow_body

MAX_FILE_BYTES = 64 * 1024
OWNER_RULES = """
owner_rules:
  - name: Allemagne
    site_countries: [DE]
    owner: sophie.weber@naturhome.example
  - name: France
    site_countries: [FR]
    owner: nobody.here@naturhome.example
"""
HUBSPOT_DEFAULTS = {"search_delay_s": 0.0, "file_url_ttl_s": 60.0, "rate_limits": False}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
#: What ``quote_request`` scores with the shipped rules: budget 450 000 € (+22), new build
#: (+20), site in the province of Luxembourg (+20), start in 6-7 months (+15), 180 m² (+6),
#: every detail given (+10).
EXPECTED_SCORE = 93
SALES_REP = "thomas.renard@naturhome.example"


def start_in_months(months: int) -> str:
    return months_ahead(date.today(), months)


def quote_request(email: str, **overrides: str) -> dict[str, str]:
    """The quote form as a careful client fills it in (site near Gouvy)."""
    return demo_quote_request(email, date.today(), **overrides)


def intake_config_dir(root: Path) -> Path:
    """The shipped config folder with the test's lead_intake.yaml."""
    folder = root / "config"
    folder.mkdir()
    for path in shipped_dir("config").glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    text = (folder / "lead_intake.yaml").read_text(encoding="utf-8")
    text = text.replace("owner_rules: []", OWNER_RULES.strip())
    text = text.replace("  # max_bytes: 26214400", f"  max_bytes: {MAX_FILE_BYTES}")
    (folder / "lead_intake.yaml").write_text(text, encoding="utf-8")
    return folder


def file_entry(name: str, content: bytes) -> dict[str, str]:
    return {"name": name, "content_base64": base64.b64encode(content).decode()}


class Harness:
    """The running sandbox and service, and what a test needs to drive and inspect them."""

    def __init__(self, env: SandboxEnvironment, runtime: Runtime, service: Service) -> None:
        assert env.salesforce is not None and env.hubspot is not None
        self.env = env
        self.runtime = runtime
        self.service = service
        self.sf_url = env.salesforce.base_url
        self.hs_url = env.hubspot.base_url
        self.hubspot_config = env.hubspot.config
        self.form_guid = env.hubspot.config.form_guids[0]
        creds = env.credentials
        self.sf = Salesforce(
            username=creds.username,
            password=creds.password,
            security_token=creds.security_token,
            session=emulator_session(self.sf_url),
            version="59.0",
        )

    # -- driving -------------------------------------------------------------------------------

    def reset(self) -> None:
        requests.post(f"{self.sf_url}/__sandbox/reset", timeout=10).raise_for_status()
        requests.post(f"{self.hs_url}/__sandbox/reset", timeout=10).raise_for_status()
        self.hubspot_settings(**HUBSPOT_DEFAULTS)
        # A file retry an earlier test left scheduled must not fall due in a later one.
        with self.runtime.engine.begin() as conn:
            conn.execute(
                sa.delete(inbox_events).where(
                    inbox_events.c.status == "pending", inbox_events.c.dedupe_key.like("files:%")
                )
            )

    def submit(
        self,
        values: dict[str, str],
        *,
        files: list[dict[str, str]] | None = None,
        deliver: str = "webhook",
    ) -> dict[str, Any]:
        """Submit the quote form in the HubSpot emulator (and, by default, deliver it)."""
        body: dict[str, Any] = {
            "form_guid": self.form_guid,
            "values": [{"name": k, "value": v} for k, v in values.items()],
            "files": files or [],
            "deliver": deliver,
        }
        response = requests.post(f"{self.hs_url}/__sandbox/submissions", json=body, timeout=30)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        if deliver == "webhook":
            assert answer["delivery"]["status"] == 200, answer["delivery"]
        return answer

    def deliver_many(self, conversion_id: str, contact_id: str, times: int) -> list[DeliveryResult]:
        """Send the signed workflow webhook of a stored submission ``times`` times at once."""
        submission = self.stored_submission(conversion_id)
        values = {v["name"]: v["value"] for v in submission["values"]}
        body = workflow_body(
            contact_id=contact_id,
            email=values["email"],
            conversion_id=conversion_id,
            form_guid=self.form_guid,
            submitted_at=int(submission["submittedAt"]),
            values=values,
        )
        url = f"{self.service.url}/webhooks/hubspot"
        with ThreadPoolExecutor(max_workers=16) as pool:
            return list(
                pool.map(
                    lambda _: send_webhook(
                        url, body, client_secret=self.hubspot_config.client_secret, timeout_s=10
                    ),
                    range(times),
                )
            )

    def stored_submission(self, conversion_id: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.hs_url}/form-integrations/v1/submissions/forms/{self.form_guid}",
            params={"limit": 50},
            headers={"Authorization": f"Bearer {self.hubspot_config.access_token}"},
            timeout=10,
        )
        response.raise_for_status()
        found: dict[str, Any] = next(
            r for r in response.json()["results"] if r["conversionId"] == conversion_id
        )
        return found

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Until no event is running or pending within the next minute (the queue's retries
        included; file retries scheduled minutes ahead are not waited for).

        Running and pending events are counted by one statement, so one snapshot: an event
        finishing between two separate reads could have enqueued its follow-ups (write-back,
        file retry) after the pending ones were listed and before "nothing running" was read.
        Idle must also be seen twice in a row, a poll apart, before it is believed.
        """
        deadline = time.monotonic() + timeout_s
        idle_seen = 0
        while time.monotonic() < deadline:
            idle_seen = idle_seen + 1 if self.busy_events() == 0 else 0
            if idle_seen == 2:
                return
            time.sleep(0.05)
        raise AssertionError(f"the inbox did not drain: {self.runtime.inbox.depth_by_status()}")

    def busy_events(self) -> int:
        """Events running, or pending and due within a minute, read in a single statement."""
        soon = utcnow() + timedelta(minutes=1)
        events = inbox_events.c
        due_soon = sa.and_(events.status == "pending", events.available_at <= soon)
        busy = (
            sa.select(sa.func.count())
            .select_from(inbox_events)
            .where(sa.or_(events.status == "running", due_soon))
        )
        with reading(self.runtime.engine) as conn:
            count: int = conn.execute(busy).scalar_one()
        return count

    def cli_env_file(self) -> Path:
        """The sandbox's env file, but naming the harness's store (the sandbox names its own
        SQLite file; the PostgreSQL harness overrides it), for CLI commands."""
        url = self.runtime.settings.database_url
        lines = [
            line
            for line in self.env.env_file.read_text(encoding="utf-8").splitlines()
            if not line.startswith("NATURHOME_DATABASE__URL=")
        ]
        path = self.env.env_file.with_name("cli.env")
        path.write_text("\n".join([*lines, f"NATURHOME_DATABASE__URL={url}", ""]), encoding="utf-8")
        return path

    def make_due(self, event: Event) -> None:
        """Time passes: the event scheduled for later is due now."""
        with self.runtime.engine.begin() as conn:
            conn.execute(
                inbox_events.update()
                .where(inbox_events.c.id == event.id)
                .values(available_at=utcnow())
            )

    def file_retry_event(self, conversion_id: str, retry: int) -> Event | None:
        return self.runtime.inbox.find("internal", f"files:{conversion_id}:{retry}")

    @contextmanager
    def salesforce_read_timeout(self, seconds: float) -> Iterator[None]:
        """The service's Salesforce client with ``salesforce.read_timeout_s`` set to
        ``seconds`` for the block (a client of its own, logged in afresh), then the usual
        one back."""
        services = self.runtime.services
        usual = services.salesforce
        assert self.runtime.settings.salesforce is not None
        settings = self.runtime.settings.salesforce.model_copy(update={"read_timeout_s": seconds})
        short = SalesforceClient(settings)
        services.override("salesforce", short)
        try:
            yield
        finally:
            services.override("salesforce", usual)
            short.close()

    def salesforce_fault(self, **fault: Any) -> None:
        response = requests.post(f"{self.sf_url}/__sandbox/faults", json=fault, timeout=5)
        assert response.status_code in (200, 201), response.text

    def hubspot_fault(self, **fault: Any) -> None:
        response = requests.post(f"{self.hs_url}/__sandbox/faults", json=fault, timeout=5)
        assert response.status_code == 201, response.text

    def hubspot_settings(self, **settings: Any) -> None:
        response = requests.post(f"{self.hs_url}/__sandbox/config", json=settings, timeout=5)
        assert response.status_code == 200, response.text

    # -- inspecting ----------------------------------------------------------------------------

    def salesforce_api_calls(self) -> int:
        """Data calls the org has answered since the last reset (logins are not counted);
        the test's own queries count too, so take differences around what is measured."""
        stats = requests.get(f"{self.sf_url}/__sandbox/stats", timeout=5).json()
        used: int = stats["api_usage"]["used"]
        return used

    def salesforce_calls(self) -> dict[str, int]:
        calls: dict[str, int] = requests.get(f"{self.sf_url}/__sandbox/stats", timeout=5).json()[
            "calls"
        ]
        return calls

    def hubspot_calls(self) -> dict[str, int]:
        """HubSpot calls (API and storage host) since the last reset, by route."""
        calls: dict[str, int] = requests.get(f"{self.hs_url}/__sandbox/stats", timeout=5).json()[
            "calls"
        ]
        return calls

    def query(self, soql: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.sf.query_all(soql)["records"]
        return records

    def count(self, object_name: str, where: str = "") -> int:
        clause = f" WHERE {where}" if where else ""
        total: int = self.sf.query(f"SELECT COUNT() FROM {object_name}{clause}")["totalSize"]
        return total

    def hubspot_contact(self, contact_id: str, *properties: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.hs_url}/crm/v3/objects/contacts/{contact_id}",
            params={"properties": ",".join(properties)},
            headers={"Authorization": f"Bearer {self.hubspot_config.access_token}"},
            timeout=10,
        )
        response.raise_for_status()
        props: dict[str, Any] = response.json()["properties"]
        return props

    def intake_event(self, conversion_id: str) -> Event:
        event = self.runtime.inbox.find("hubspot", f"submission:{conversion_id}")
        assert event is not None, f"no intake event for {conversion_id}"
        return event

    def write_back_event(self, conversion_id: str) -> Event | None:
        return self.runtime.inbox.find("internal", f"write_back:{conversion_id}")

    def runs(self, event: Event) -> list[dict[str, Any]]:
        return self.runtime.inbox.runs_of(event.id)


def start_harness(root: Path, **overrides: Any) -> tuple[SandboxEnvironment, Runtime, Service]:
    configure_logging("WARNING", "json")
    env = SandboxEnvironment(root / "sandbox").start(seed=True)
    settings = load_settings(
        env.env_file,
        config_dir=intake_config_dir(root),
        retry={"base_seconds": 0.05, "max_seconds": 0.2, "jitter": 0.1},
        hubspot={"retry_attempts": 1},
        **overrides,
    )
    runtime = Runtime(settings)
    runtime.upgrade()
    service = Service(runtime, scheduler=False).start()
    return env, runtime, service


@pytest.fixture(scope="module")
def harness_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    env, runtime, service = start_harness(tmp_path_factory.mktemp("intake"))
    try:
        yield Harness(env, runtime, service)
    finally:
        service.stop()
        runtime.close()
        env.stop()


@pytest.fixture(scope="package")
def postgres_harness_instance(
    tmp_path_factory: pytest.TempPathFactory, postgres_base_url: str
) -> Iterator[Harness]:
    """The same, on PostgreSQL with four workers in the service; one for the whole folder
    (every test resets it), since several modules run some of their tests on it."""
    schema = f"intake_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_base_url else "?"
    url = f"{postgres_base_url}{separator}options={url_quote(f'-csearch_path={schema}')}"
    env, runtime, service = start_harness(
        tmp_path_factory.mktemp("intake-pg"), database={"url": url}, worker={"count": 4}
    )
    try:
        yield Harness(env, runtime, service)
    finally:
        service.stop()
        runtime.close()
        env.stop()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_harness(postgres_harness_instance: Harness) -> Harness:
    postgres_harness_instance.wait_idle()
    postgres_harness_instance.reset()
    return postgres_harness_instance


@pytest.fixture
def harness(request: pytest.FixtureRequest) -> Harness:
    """The running harness, emptied: SQLite with one worker, unless the test is parametrized
    indirectly with ``"postgresql"`` (``ON_BOTH_STORES`` in the modules), which gives it the
    PostgreSQL harness and its four workers."""
    store = getattr(request, "param", "sqlite")
    if store not in ("sqlite", "postgresql"):
        raise ValueError(f"harness: unknown store {store!r}")
    name = "postgres_harness_instance" if store == "postgresql" else "harness_instance"
    instance: Harness = request.getfixturevalue(name)
    instance.wait_idle()
    instance.reset()
    return instance


@pytest.fixture
def quote() -> Callable[..., dict[str, str]]:
    """``quote(email, **overrides)``: the values of a quote form."""
    return quote_request


@pytest.fixture
def pdf_file() -> Callable[..., dict[str, str]]:
    """``pdf_file(name="plan.pdf", content=PDF)``: a file entry of a submission."""

    def make(name: str = "plan.pdf", content: bytes = PDF) -> dict[str, str]:
        return file_entry(name, content)

    return make
