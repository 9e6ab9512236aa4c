"""The ``hubspot_poll`` flow against the HubSpot emulator over HTTP.

The poller is the safety net under the webhooks: it must find everything since its mark
(paging newest first, 50 a page), never enqueue a submission twice (same dedupe key as the
webhook path), and back off when HubSpot says so instead of hammering it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from connectors.hubspot import HubSpotClient, Submission
from connectors.hubspot_settings import HubSpotSettings
from jobs.hubspot_catchup import cursor_name
from naturhome_sync.runtime import Runtime
from naturhome_sync.service import Service
from naturhome_sync.store import Event
from naturhome_sync.store.inbox import utcnow
from naturhome_sync.store.tables import inbox_events
from sandbox.hubspot import QUOTE_FORM_GUID, HubSpotEmulator, HubSpotEmulatorConfig

FORM = QUOTE_FORM_GUID
FORMS_CALL = "GET /form-integrations/v1/submissions/forms/{form_guid}"
DAY_MS = 24 * 3600 * 1000


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubSpotEmulator]:
    config = HubSpotEmulatorConfig(state_dir=tmp_path_factory.mktemp("hubspot"))
    with HubSpotEmulator(config) as running:
        yield running


def hubspot_settings(emulator: HubSpotEmulator, **extra: Any) -> dict[str, Any]:
    config = emulator.config
    return {
        "access_token": config.access_token,
        "client_secret": config.client_secret,
        "base_url": emulator.base_url,
        "portal_id": config.portal_id,
        "form_guids": [FORM],
        **extra,
    }


MakeRuntime = Callable[..., Runtime]


@pytest.fixture
def make_runtime(settings_factory: Any, hubspot: HubSpotEmulator) -> Iterator[MakeRuntime]:
    runtimes: list[Runtime] = []

    def make(database_url: str | None = None, **hubspot_extra: Any) -> Runtime:
        runtime = Runtime(
            settings_factory(database_url, hubspot=hubspot_settings(hubspot, **hubspot_extra))
        )
        runtime.upgrade()
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.close()


def now_ms() -> int:
    return int(time.time() * 1000)


def submit(emulator: HubSpotEmulator, email: str, **options: Any) -> dict[str, Any]:
    body = {"form_guid": FORM, "values": [{"name": "email", "value": email}], **options}
    response = requests.post(f"{emulator.base_url}/__sandbox/submissions", json=body, timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def forms_calls(emulator: HubSpotEmulator) -> int:
    stats = requests.get(f"{emulator.base_url}/__sandbox/stats", timeout=5).json()
    return int(stats["calls"].get(FORMS_CALL, 0))


def reset_stats(emulator: HubSpotEmulator) -> None:
    requests.post(
        f"{emulator.base_url}/__sandbox/reset", json={"scope": "stats"}, timeout=5
    ).raise_for_status()


def submissions_in_inbox(runtime: Runtime) -> list[Event]:
    return [
        e for e in runtime.inbox.list(source="hubspot", limit=None) if e.kind == "form_submission"
    ]


def fault(emulator: HubSpotEmulator, **spec: Any) -> None:
    response = requests.post(f"{emulator.base_url}/__sandbox/faults", json=spec, timeout=5)
    assert response.status_code == 201, response.text


# -- paging, the mark, the look-back -------------------------------------------------------------


def test_first_run_pages_back_seven_days_and_stores_the_mark(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime, database_url: str
) -> None:
    start = now_ms()
    for days in (8, 9, 10):  # before the first run's look-back
        submit(hubspot, f"old-{days}@example.be", submitted_at=start - days * DAY_MS)
    recent = {
        submit(hubspot, f"client-{n}@example.be", submitted_at=start - 6 * DAY_MS + n * 60_000)[
            "conversion_id"
        ]: start - 6 * DAY_MS + n * 60_000
        for n in range(120)
    }
    runtime = make_runtime(database_url)
    reset_stats(hubspot)

    outcome = runtime.run_flow("hubspot_poll")

    assert outcome.status == "done", outcome.error
    assert outcome.counters == {"submissions_seen": 120, "submissions_new": 120}
    events = submissions_in_inbox(runtime)
    assert {e.dedupe_key for e in events} == {f"submission:{cid}" for cid in recent}
    assert {e.flow for e in events} == {"lead_intake"}
    assert {e.payload["received_via"] for e in events} == {"poller"}
    assert {e.payload["conversion_id"]: e.payload["submitted_at"] for e in events} == recent
    assert forms_calls(hubspot) == 3  # 50 + 50 + (20 recent, then older than the look-back)
    assert runtime.cursors.get(cursor_name(FORM)) == str(max(recent.values()))


def test_a_second_run_enqueues_only_what_is_newer_than_the_mark(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime, database_url: str
) -> None:
    start = now_ms() - 3_600_000
    for n in range(60):
        submit(hubspot, f"client-{n}@example.be", submitted_at=start + n * 1000)
    runtime = make_runtime(database_url)
    first = runtime.run_flow("hubspot_poll")
    mark = start + 59_000
    assert first.counters["submissions_new"] == 60
    assert runtime.cursors.get(cursor_name(FORM)) == str(mark)

    same_millisecond = submit(hubspot, "late@example.be", submitted_at=mark)["conversion_id"]
    newer = {
        submit(hubspot, f"new-{n}@example.be", submitted_at=mark + 500 + n)["conversion_id"]
        for n in range(2)
    }
    before = {e.dedupe_key for e in submissions_in_inbox(runtime)}
    reset_stats(hubspot)
    second = runtime.run_flow("hubspot_poll")

    # The run reads back an hour before the mark (all 60 again, absorbed by their dedupe
    # key), so a submission sharing the mark's millisecond is not lost either.
    assert second.counters == {"submissions_seen": 63, "submissions_new": 3}
    assert forms_calls(hubspot) == 2
    after = {e.dedupe_key for e in submissions_in_inbox(runtime)}
    assert after - before == {f"submission:{cid}" for cid in {same_millisecond, *newer}}
    assert len(after) == 63
    assert runtime.cursors.get(cursor_name(FORM)) == str(mark + 501)

    third = runtime.run_flow("hubspot_poll")
    assert third.counters["submissions_new"] == 0


def test_a_submission_that_reaches_the_forms_api_late_is_still_read(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime, database_url: str
) -> None:
    """HubSpot can list a submission after newer ones: the mark has passed its submittedAt."""
    start = now_ms() - 600_000
    submit(hubspot, "first@example.be", submitted_at=start)
    runtime = make_runtime(database_url)
    runtime.run_flow("hubspot_poll")
    assert runtime.cursors.get(cursor_name(FORM)) == str(start)

    late = submit(hubspot, "late@example.be", submitted_at=start - 120_000)["conversion_id"]
    too_old = submit(hubspot, "old@example.be", submitted_at=start - 2 * 3_600_000)
    again = runtime.run_flow("hubspot_poll")

    assert again.counters == {"submissions_seen": 2, "submissions_new": 1}
    keys = {e.dedupe_key for e in submissions_in_inbox(runtime)}
    assert f"submission:{late}" in keys
    assert f"submission:{too_old['conversion_id']}" not in keys  # beyond the overlap
    assert runtime.cursors.get(cursor_name(FORM)) == str(start)  # the mark did not move back


class PollsMeanwhile(HubSpotClient):
    """The real client, with a hook run once between reading the forms and storing the mark:
    another poll run that starts and finishes in the meantime."""

    def __init__(self, settings: HubSpotSettings, meanwhile: Callable[[], None]) -> None:
        super().__init__(settings)
        self.meanwhile: Callable[[], None] | None = meanwhile

    def iter_submissions_since(self, form_guid: str, high_water_ms: int) -> Iterator[Submission]:
        submissions = list(super().iter_submissions_since(form_guid, high_water_ms))
        hook, self.meanwhile = self.meanwhile, None
        if hook is not None:
            hook()
        yield from submissions


def test_a_run_finishing_after_a_newer_one_does_not_move_the_mark_back(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime, database_url: str
) -> None:
    start = now_ms() - 60_000
    submit(hubspot, "first@example.be", submitted_at=start)
    runtime = make_runtime(database_url)
    newer = start + 30_000

    def another_run() -> None:
        submit(hubspot, "newer@example.be", submitted_at=newer)
        assert runtime.run_flow("hubspot_poll").status == "done"
        assert runtime.cursors.get(cursor_name(FORM)) == str(newer)

    settings = runtime.settings.hubspot
    assert settings is not None
    runtime.services.override("hubspot", PollsMeanwhile(settings, another_run))

    outcome = runtime.run_flow("hubspot_poll")  # read before the newer run, finishes after it

    assert outcome.status == "done", outcome.error
    # The other run enqueued both submissions; this one read only the first.
    assert outcome.counters == {"submissions_seen": 1, "submissions_new": 0}
    assert runtime.cursors.get(cursor_name(FORM)) == str(newer)
    assert len(submissions_in_inbox(runtime)) == 2


def test_the_mark_survives_a_restart(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'state' / 'naturhome.db'}"
    submit(hubspot, "a@example.be", submitted_at=now_ms() - 1000)
    make_runtime(url).run_flow("hubspot_poll")
    submit(hubspot, "b@example.be")
    reset_stats(hubspot)

    again = make_runtime(url).run_flow("hubspot_poll")

    assert again.counters == {"submissions_seen": 2, "submissions_new": 1}


def test_a_submission_received_by_webhook_is_not_enqueued_again(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime, database_url: str
) -> None:
    runtime = make_runtime(database_url)
    with Service(runtime, workers=0, scheduler=False) as service:
        requests.post(
            f"{hubspot.base_url}/__sandbox/config",
            json={"service_webhook_url": f"{service.url}/webhooks/hubspot"},
            timeout=5,
        ).raise_for_status()
        by_webhook = submit(hubspot, "claire@example.lu", deliver="webhook")
        assert by_webhook["delivery"]["status"] == 200
    only_polled = submit(hubspot, "marc@example.be")["conversion_id"]

    outcome = runtime.run_flow("hubspot_poll")

    assert outcome.counters == {"submissions_seen": 2, "submissions_new": 1}
    events = {e.payload["conversion_id"]: e for e in submissions_in_inbox(runtime)}
    assert set(events) == {by_webhook["conversion_id"], only_polled}
    assert events[by_webhook["conversion_id"]].payload["received_via"] == "webhook"
    assert events[only_polled].payload["received_via"] == "poller"


def test_a_form_hubspot_does_not_know_does_not_stop_the_others(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime
) -> None:
    unknown = "00000000-0000-4000-8000-00000000dead"
    runtime = make_runtime(form_guids=[unknown, FORM])
    conversion_id = submit(hubspot, "claire@example.lu")["conversion_id"]

    outcome = runtime.run_flow("hubspot_poll")

    assert [e.dedupe_key for e in submissions_in_inbox(runtime)] == [f"submission:{conversion_id}"]
    assert runtime.cursors.get(cursor_name(FORM)) is not None
    assert outcome.status == "dead"
    assert outcome.category == "permanent_config"
    assert outcome.error is not None and unknown in outcome.error


def test_a_dry_run_reads_but_enqueues_nothing_and_keeps_no_mark(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime
) -> None:
    for n in range(3):
        submit(hubspot, f"client-{n}@example.be")
    runtime = make_runtime()

    result = runtime.dry_run("hubspot_poll")

    assert result.counters == {"submissions_seen": 3, "submissions_new": 0}
    assert runtime.inbox.list() == []
    assert runtime.cursors.get(cursor_name(FORM)) is None


# -- rate limits ---------------------------------------------------------------------------------


class RecordedSleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def with_recorded_sleeps(runtime: Runtime) -> RecordedSleeps:
    sleeps = RecordedSleeps()
    settings = runtime.settings.hubspot
    assert isinstance(settings, HubSpotSettings)
    runtime.services.override("hubspot", HubSpotClient(settings, sleep=sleeps))
    return sleeps


def make_due(runtime: Runtime, event_id: int) -> None:
    """Time passes: the retry the worker scheduled is due now."""
    with runtime.engine.begin() as conn:
        conn.execute(
            inbox_events.update().where(inbox_events.c.id == event_id).values(available_at=utcnow())
        )


@pytest.mark.parametrize(
    ("policy", "at_least_s"),
    [("TEN_SECONDLY_ROLLING", 8.0), ("DAILY", 60.0)],
)
def test_a_long_rate_limit_goes_back_to_the_queue_and_is_retried_later(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime, policy: str, at_least_s: float
) -> None:
    conversion_id = submit(hubspot, "claire@example.lu")["conversion_id"]
    runtime = make_runtime()
    sleeps = with_recorded_sleeps(runtime)
    reset_stats(hubspot)  # also clears faults: set the fault after it
    fault(
        hubspot,
        method="GET",
        path="^/form-integrations/",
        status=429,
        body={
            "status": "error",
            "message": f"You have reached your {policy.lower()} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": "3d8e3fb4-5e3b-4b5e-9c4c-0a1b2c3d4e5f",
            "policyName": policy,
        },
    )

    outcome = runtime.run_flow("hubspot_poll")

    assert outcome.status == "retry"
    assert outcome.category == "rate_limited"
    assert outcome.delay_seconds >= at_least_s  # the rest of the window, not the backoff cap
    assert sleeps == []  # nothing waited inside the call
    assert forms_calls(hubspot) == 1  # and HubSpot was not asked again
    event = runtime.inbox.get(outcome.event_id)
    assert event is not None and event.status == "pending"
    assert event.last_error is not None and event.last_error.startswith(f"{policy}: HubSpot")
    assert event.available_at >= utcnow() + timedelta(seconds=at_least_s - 1)
    assert runtime.new_worker().run_once() is None  # not due: the worker does not spin
    assert submissions_in_inbox(runtime) == []

    make_due(runtime, outcome.event_id)
    later = runtime.new_worker().run_once(event_id=outcome.event_id)

    assert later is not None and later.status == "done"
    assert later.attempts == 2
    assert [e.dedupe_key for e in submissions_in_inbox(runtime)] == [f"submission:{conversion_id}"]


def test_a_short_rate_limit_is_waited_out_inside_the_call(
    hubspot: HubSpotEmulator, make_runtime: MakeRuntime
) -> None:
    submit(hubspot, "claire@example.lu")
    runtime = make_runtime()
    sleeps = with_recorded_sleeps(runtime)
    fault(
        hubspot,
        method="GET",
        path="^/form-integrations/",
        status=429,
        body={"status": "error", "errorType": "RATE_LIMIT", "policyName": "SECONDLY"},
    )

    outcome = runtime.run_flow("hubspot_poll")

    assert outcome.status == "done"
    assert outcome.counters["submissions_new"] == 1
    assert sleeps == [1.0]
