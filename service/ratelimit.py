"""Rate limits: how often one API key, one client IP or one sender may come in a window.

A token bucket per identity, kept in this process: a burst up to the limit is allowed,
then one more each `window / limit` seconds. With several processes each counts its own,
so the limit a fleet allows is the per-process limit times the processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Buckets refilled to the brim are forgotten when this many identities are tracked.
PRUNE_AT = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`limit` hits per `window_seconds` per identity; a limit of 0 allows everything."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        # Hits refused since the process started, for the metrics.
        self.refused = 0

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def hit(self, identity: str) -> int | None:
        """Count one hit; None when allowed, else the whole seconds to wait (for Retry-After)."""
        if not self.enabled:
            return None
        rate = self.limit / self.window_seconds
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(identity)
            if bucket is None:
                if len(self._buckets) >= PRUNE_AT:
                    self._prune(now, rate)
                bucket = self._buckets[identity] = _Bucket(tokens=self.limit, updated=now)
            bucket.tokens = min(self.limit, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            self.refused += 1
            return max(1, math.ceil((1 - bucket.tokens) / rate))

    def _prune(self, now: float, rate: float) -> None:
        full = [
            identity
            for identity, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * rate >= self.limit
        ]
        for identity in full:
            del self._buckets[identity]


@dataclass(frozen=True)
class RateLimits:
    """The limits of one process: per API key, per client IP on pages, per inbound sender."""

    api: RateLimiter
    pages: RateLimiter
    inbound: RateLimiter

    @classmethod
    def from_settings(cls, api_per_minute: int, pages_per_minute: int, inbound_per_hour: int) -> RateLimits:
        return cls(
            api=RateLimiter(api_per_minute, 60),
            pages=RateLimiter(pages_per_minute, 60),
            inbound=RateLimiter(inbound_per_hour, 3600),
        )
