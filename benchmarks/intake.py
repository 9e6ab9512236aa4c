"""Lead intake: Salesforce API calls per request, and how fast the HubSpot webhook is acknowledged.

Two measurements on a sandbox environment (Salesforce and HubSpot emulators on loopback):

- API calls per intake, counted by the Salesforce emulator (``api_usage``, logins excluded),
  for a new client with one PDF plan, for a known client asking again, and for a replay of
  a request already filed; each next to its target (2, 3, and 1: the read alone).
- Webhook acknowledgement: signed ``POST /webhooks/hubspot`` deliveries (a new submission
  each, so every one is verified and stored) sent by one client, then by concurrent clients
  (a connection per request, from the benchmark's process), to a service running
  ``naturhome-sync api`` in its own process (SQLite store, as the sandbox; PostgreSQL too
  when a URL is given), next to ``POST /bench/noop`` on the same server
  (``benchmarks.noop_endpoint``, same body, same client). p50/p99 latency and throughput;
  the ratios are what to compare across machines. One more row times a keep-alive client,
  which guards against the ~40 ms Nagle stall a socket without TCP_NODELAY would add.
"""

from __future__ import annotations

import base64
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from benchmarks.harness import Result, Row
from benchmarks.inbox_throughput import _postgres_schema_url
from naturhome_sync.runtime import Runtime
from naturhome_sync.service import Service
from naturhome_sync.settings import load_settings
from sandbox.environment import SandboxEnvironment
from sandbox.hubspot import send_webhook, workflow_body

ROOT = Path(__file__).resolve().parent.parent
PLAN = b"%PDF-1.4\n" + b"plan du rez-de-chaussee " * 2000 + b"\n%%EOF\n"
KEEP_ALIVE_NOTE = (
    "one kept-alive connection: stays close to a fresh connection's figure because the "
    "service's socket sets TCP_NODELAY (without it: ~40 ms, the client's delayed ACK)"
)
TARGETS = {"new client + 1 file": 2, "known client": 3, "replay of a filed request": 1}


def _values(index: int) -> list[dict[str, str]]:
    values = {
        "email": f"client{index}@example.be",
        "firstname": "Claire",
        "lastname": f"Dupont{index}",
        "zip": "6670",
        "city": "Gouvy",
        "country": "BE",
        "site_postal_code": "6670",
        "site_city": "Gouvy",
        "site_country": "BE",
        "project_type": "Nouvelle construction",
        "budget": "450000",
        "living_area_m2": "180",
    }
    return [{"name": k, "value": v} for k, v in values.items()]


def _used(env: SandboxEnvironment) -> int:
    assert env.salesforce is not None
    stats = requests.get(f"{env.salesforce.base_url}/__sandbox/stats", timeout=10).json()
    used: int = stats["api_usage"]["used"]
    return used


def _wait_idle(runtime: Runtime, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        depth = runtime.inbox.depth_by_status()
        if depth["pending"] == 0 and depth["running"] == 0:
            return
        time.sleep(0.02)
    raise RuntimeError(f"the inbox did not drain: {runtime.inbox.depth_by_status()}")


def _api_calls(env: SandboxEnvironment, clients: int) -> list[Row]:
    """Calls per intake, each request measured alone (nothing else talks to Salesforce)."""
    assert env.hubspot is not None
    settings = load_settings(env.env_file, log={"level": "WARNING"})
    runtime = Runtime(settings)
    runtime.upgrade()
    service = Service(runtime, scheduler=False).start()
    measured: dict[str, list[int]] = {case: [] for case in TARGETS}
    try:

        def intake(case: str, values: list[dict[str, str]], files: list[Any]) -> str:
            before = _used(env)
            answer = requests.post(
                f"{env.hubspot.base_url}/__sandbox/submissions",
                json={
                    "form_guid": env.hubspot.config.form_guids[0],
                    "values": values,
                    "files": files,
                    "deliver": "webhook",
                },
                timeout=30,
            ).json()
            _wait_idle(runtime)
            measured[case].append(_used(env) - before)
            conversion_id: str = answer["conversion_id"]
            return conversion_id

        plan = [{"name": "plan.pdf", "content_base64": base64.b64encode(PLAN).decode()}]
        filed = [intake("new client + 1 file", _values(i), plan) for i in range(clients)]
        for i in range(clients):
            intake("known client", _values(i), [])
        for conversion_id in filed:
            event = runtime.inbox.find("hubspot", f"submission:{conversion_id}")
            assert event is not None and event.status == "done", event
            before = _used(env)
            runtime.inbox.replay([event.id], by="benchmark")
            _wait_idle(runtime)
            measured["replay of a filed request"].append(_used(env) - before)
        dead = runtime.inbox.depth_by_status()["dead"]
        if dead:
            raise RuntimeError(f"{dead} intake event(s) died during the benchmark")
    finally:
        service.stop()
        runtime.close()
    return [
        Row(
            "salesforce api calls per intake",
            case,
            statistics.fmean(values),
            "calls",
            float(TARGETS[case]),
            f"target ≤ {TARGETS[case]}; min {min(values)}, max {max(values)} over {len(values)}",
        )
        for case, values in measured.items()
    ]


def _start_api(env: SandboxEnvironment, database_url: str | None) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "NATURHOME_PLUGINS": '["benchmarks.noop_endpoint"]',
        "NATURHOME_LOG__LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "naturhome_sync", "--env-file", str(env.env_file)]
    if database_url:
        environment["NATURHOME_DATABASE__URL"] = database_url
        subprocess.run(
            [*command, "db", "upgrade"], env=environment, check=True, capture_output=True
        )
    process = subprocess.Popen(
        [*command, "api"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{env.service_url}/healthz", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the benchmarked service did not start")


def _fire(
    send: Callable[[requests.Session, int], int],
    requests_count: int,
    concurrency: int,
    *,
    keep_alive: bool = False,
) -> tuple[list[float], float]:
    """Latencies (s) of ``requests_count`` calls from ``concurrency`` clients, and wall time.

    Without ``keep_alive`` each request opens its own connection (``Connection: close``).
    """
    local = threading.local()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            if not keep_alive:
                session.headers["Connection"] = "close"
        began = time.perf_counter()
        status = send(session, index)
        elapsed = time.perf_counter() - began
        if status != 200:
            raise RuntimeError(f"request {index} answered {status}")
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests_count)))
    return latencies, time.perf_counter() - started


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _webhook_latency(
    env: SandboxEnvironment, count: int, concurrency: int, database_url: str | None = None
) -> list[Row]:
    store = "PostgreSQL" if database_url else "SQLite"
    assert env.hubspot is not None
    secret = env.hubspot.config.client_secret
    form = env.hubspot.config.form_guids[0]
    run = uuid.uuid4().hex[:8]

    def body(index: int) -> dict[str, Any]:
        return workflow_body(
            contact_id=str(5000 + index),
            email=f"bench{index}@example.be",
            conversion_id=f"bench-{run}-{index}",
            form_guid=form,
            submitted_at=int(time.time() * 1000),
            values={"firstname": "Bench", "lastname": f"Client{index}", "budget": "400000"},
        )

    def post_to(path: str, prefix: str) -> Callable[[requests.Session, int], int]:
        def send(session: requests.Session, index: int) -> int:
            payload = body(index)
            payload["conversion_id"] = f"{prefix}-{payload['conversion_id']}"
            result = send_webhook(
                f"{env.service_url}{path}", payload, client_secret=secret, session=session
            )
            return result.status_code or 0

        return send

    process = _start_api(env, database_url)
    rows: list[Row] = []
    try:
        _fire(post_to("/bench/noop", "warm"), 50, concurrency)  # caches, first imports
        _fire(post_to("/webhooks/hubspot", "warm"), 50, concurrency)
        for clients in (1, concurrency):
            noop, noop_wall = _fire(post_to("/bench/noop", f"noop{clients}"), count, clients)
            hook, hook_wall = _fire(post_to("/webhooks/hubspot", f"hook{clients}"), count, clients)
            rows += _latency_rows(store, clients, count, (noop, noop_wall), (hook, hook_wall))
        kept, _ = _fire(post_to("/bench/noop", "kept"), min(count, 100), 1, keep_alive=True)
        rows.append(
            Row(
                f"webhook ack, 1 keep-alive client ({store} store)",
                "do-nothing endpoint p50",
                _percentile(kept, 0.5) * 1000,
                "ms",
                note=KEEP_ALIVE_NOTE,
            )
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return rows


def _latency_rows(
    store: str,
    clients: int,
    count: int,
    noop: tuple[list[float], float],
    hook: tuple[list[float], float],
) -> list[Row]:
    case = f"webhook ack, {clients} client{'s' if clients > 1 else ''} ({store} store)"
    rows: list[Row] = []
    for label, share in (("p50", 0.5), ("p99", 0.99)):
        base = _percentile(noop[0], share) * 1000
        rows.append(Row(case, f"do-nothing endpoint {label}", base, "ms", note="baseline"))
        rows.append(
            Row(
                case,
                f"POST /webhooks/hubspot {label}",
                _percentile(hook[0], share) * 1000,
                "ms",
                base,
            )
        )
    base_rate = count / noop[1]
    rows.append(Row(case, "do-nothing endpoint throughput", base_rate, "req/s", note="baseline"))
    rows.append(Row(case, "POST /webhooks/hubspot throughput", count / hook[1], "req/s", base_rate))
    return rows


def run(options: dict[str, Any]) -> Result:
    count = int(options.get("requests", 500))
    concurrency = int(options.get("concurrency", 8))
    clients = int(options.get("clients", 5))
    result = Result(
        name="intake",
        description=__doc__.strip().splitlines()[0] if __doc__ else "",
        params={"requests": count, "concurrency": concurrency, "clients_per_case": clients},
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = SandboxEnvironment(Path(tmp) / "sandbox").start(seed=True)
        try:
            result.rows += _api_calls(env, clients)
            result.rows += _webhook_latency(env, count, concurrency)
            postgres = options.get("postgres_url")
            if postgres:
                url, drop = _postgres_schema_url(postgres)
                try:
                    result.rows += _webhook_latency(env, count, concurrency, url)
                finally:
                    drop()
            else:
                result.params["postgresql"] = "skipped: set NATURHOME_BENCH_DATABASE_URL"
        finally:
            env.stop()
    return result
