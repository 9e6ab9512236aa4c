from __future__ import annotations

import random

import pytest

from naturhome_sync import errors
from naturhome_sync.retry import backoff_seconds
from naturhome_sync.settings import RetrySettings
from naturhome_sync.worker import decide


@pytest.mark.parametrize(
    ("exc", "category", "retryable"),
    [
        (errors.TransientError("x"), "transient", True),
        (errors.RateLimitedError("x", retry_after=3), "rate_limited", True),
        (errors.AuthError("x"), "auth", False),
        (errors.PermanentDataError("x"), "permanent_data", False),
        (errors.PermanentConfigError("x"), "permanent_config", False),
        (KeyError("bug"), "internal", True),
    ],
)
def test_every_error_has_one_category(exc: Exception, category: str, retryable: bool) -> None:
    assert errors.category_of(exc) == category
    assert (category in errors.RETRYABLE_CATEGORIES) is retryable


def test_sync_error_keeps_the_outside_code() -> None:
    exc = errors.TransientError("row locked", code="UNABLE_TO_LOCK_ROW", record_id="006x")
    assert str(exc) == "UNABLE_TO_LOCK_ROW: row locked"
    assert exc.record_id == "006x"
    assert exc.retryable


def test_configuration_error_message_names_source_and_key() -> None:
    exc = errors.ConfigurationError("bad", source="config/scoring.yaml", key="rules[2].points")
    assert str(exc) == "config/scoring.yaml: rules[2].points: bad"


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetrySettings(base_seconds=10, max_seconds=100, jitter=0)
    delays = [backoff_seconds(n, policy) for n in range(1, 7)]
    assert delays == [10, 20, 40, 80, 100, 100]


def test_backoff_jitter_stays_within_bounds() -> None:
    policy = RetrySettings(base_seconds=10, max_seconds=1000, jitter=0.2)
    rng = random.Random(7)
    samples = [backoff_seconds(3, policy, rng=rng) for _ in range(200)]
    assert min(samples) >= 32 and max(samples) <= 48
    assert len({round(s, 3) for s in samples}) > 100  # actually spread


def test_backoff_honours_retry_after_even_above_the_cap() -> None:
    policy = RetrySettings(base_seconds=1, max_seconds=5, jitter=0)
    assert backoff_seconds(1, policy, retry_after=30) == 30
    assert backoff_seconds(3, policy, retry_after=0.5) == 4


@pytest.mark.parametrize(
    ("category", "attempts", "expected"),
    [
        (None, 1, "done"),
        ("transient", 1, "retry"),
        ("rate_limited", 2, "retry"),
        ("internal", 2, "retry"),
        ("transient", 3, "dead"),
        ("permanent_data", 1, "dead"),
        ("permanent_config", 1, "dead"),
        ("auth", 1, "dead"),
    ],
)
def test_decision_table(category: str | None, attempts: int, expected: str) -> None:
    decision = decide(category=category, attempts=attempts, max_attempts=3, delay=1.5)
    assert decision.status == expected
    assert decision.delay_seconds == (1.5 if expected == "retry" else 0)


def test_rate_limited_attempts_spend_time_not_the_attempt_budget() -> None:
    still_young = decide(
        category="rate_limited",
        attempts=30,
        max_attempts=3,
        delay=900,
        age_seconds=3600,
        rate_limited_max_age_seconds=48 * 3600,
    )
    assert (still_young.status, still_young.delay_seconds) == ("retry", 900)
    too_old = decide(
        category="rate_limited",
        attempts=30,
        max_attempts=3,
        delay=900,
        age_seconds=49 * 3600,
        rate_limited_max_age_seconds=48 * 3600,
    )
    assert too_old.status == "dead"
    transient = decide(
        category="transient",
        attempts=3,
        max_attempts=3,
        delay=1,
        age_seconds=10,
        rate_limited_max_age_seconds=48 * 3600,
    )
    assert transient.status == "dead"  # other categories keep their budget
