from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from naturhome_sync.errors import ConfigurationError
from naturhome_sync.scheduler import parse_schedule, tick_event


def test_interval_schedules_are_anchored_so_every_process_agrees() -> None:
    first = parse_schedule("every 5m", "Europe/Brussels")
    second = parse_schedule("every 5m", "Europe/Brussels")  # "started" at another time
    assert isinstance(first, IntervalTrigger)
    now = datetime(2026, 12, 4, 15, 27, 13, tzinfo=UTC)
    assert first.get_next_fire_time(None, now) == datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    later = now + timedelta(seconds=41)
    assert second.get_next_fire_time(None, later) == datetime(2026, 12, 4, 15, 30, tzinfo=UTC)


def test_cron_schedules_use_the_configured_time_zone() -> None:
    trigger = parse_schedule("0 3 * * *", "Europe/Brussels")
    fire = trigger.get_next_fire_time(None, datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 03:00 CET


@pytest.mark.parametrize("spec", ["every 0s", "every five minutes", "61 * * * *", "* * *"])
def test_bad_schedules_name_the_flow(spec: str) -> None:
    with pytest.raises(ConfigurationError, match="schedules: housekeeping:"):
        parse_schedule(spec, "UTC", key="housekeeping")


def test_tick_dedupe_key_is_flow_at_scheduled_time_in_utc() -> None:
    brussels = datetime(2026, 12, 5, 3, 0, 0, 123456, tzinfo=UTC) + timedelta(hours=1)
    event = tick_event("housekeeping", brussels)
    assert event.dedupe_key == "housekeeping@2026-12-05T04:00:00Z"
    assert (event.source, event.kind, event.flow) == ("scheduler", "tick", "housekeeping")
