"""When to try a failed event again: exponential backoff with jitter, honouring Retry-After."""

from __future__ import annotations

import random

from naturhome_sync.settings import RetrySettings


def backoff_seconds(
    attempt: int,
    policy: RetrySettings,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Delay before attempt ``attempt + 1`` after attempt ``attempt`` (1-based) failed.

    ``base * 2**(attempt-1)`` capped at ``max``, spread by ±``jitter`` so a burst of
    failures does not come back as a burst; never shorter than what the outside system
    asked for (``retry_after``), even if that exceeds the cap.
    """
    exponent = max(0, attempt - 1)
    delay = min(policy.max_seconds, policy.base_seconds * (2.0**exponent))
    spread = float((rng or random).uniform(1 - policy.jitter, 1 + policy.jitter))
    delay = min(policy.max_seconds, delay * spread)
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return delay
