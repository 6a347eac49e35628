"""Prometheus metrics at /metrics, in a registry of our own.

Several processes serve one database, so figures about requests, mail and replies are
read from the store when scraped, not counted in a process: every node reports the same
truth. They are kept for a few seconds, so that many scrapers cost the database one read.
What belongs to a process (long-polls waiting on it, its memory) comes from the process.

Only counts are exposed: no addresses, no request contents, no keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, Gauge, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString
from sqlalchemy.exc import SQLAlchemyError

from .context import Runtime
from .mail_in.errors import Rejected
from .ratelimit import RateLimits
from .store import inbound, outbox, stats
from .store.db import Database
from .waiting import DecisionHub

log = logging.getLogger(__name__)

EXTENSION_KEY = "signoff_metrics"
STORE_CACHE_SECONDS = 5.0
EMAIL = "email"

_MINUTE, _HOUR, _DAY = 60.0, 3600.0, 86400.0
# People answer in seconds when at their desk, in days when not.
LATENCY_BUCKETS_SECONDS = (
    10.0,
    30.0,
    _MINUTE,
    5 * _MINUTE,
    15 * _MINUTE,
    _HOUR,
    4 * _HOUR,
    12 * _HOUR,
    _DAY,
    3 * _DAY,
    7 * _DAY,
)

bp = Blueprint("metrics", __name__)


def init_app(app: Flask, runtime: Runtime) -> None:
    """Serve /metrics from `app`, from a registry of its own."""
    app.extensions[EXTENSION_KEY] = metrics_registry(runtime.database, runtime.hub)
    app.extensions[EXTENSION_KEY].register(RateLimitCollector(runtime.rate_limits))
    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics() -> Response:
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encode(current_app.extensions[EXTENSION_KEY]), content_type=content_type)


def metrics_registry(database: Database, hub: DecisionHub) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(StoreCollector(database))
    waiters = Gauge(
        "signoff_long_poll_waiters",
        "Agents long-polling this process for a decision right now.",
        registry=registry,
    )
    waiters.set_function(lambda: hub.waiting)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


class RateLimitCollector:
    """What this process's rate limits refused (each process counts its own, as it limits)."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits

    def collect(self) -> Iterator[Metric]:
        refused = CounterMetricFamily(
            "signoff_rate_limited", "Requests and inbound emails refused by a rate limit.", labels=["limit"]
        )
        for name, limiter in (
            ("api", self._limits.api),
            ("pages", self._limits.pages),
            ("inbound", self._limits.inbound),
        ):
            refused.add_metric([name], limiter.refused)
        yield refused


@dataclass(frozen=True)
class StoreFigures:
    requests_by_state: dict[str, int]
    emails_by_status: dict[str, int]
    inbound_by_outcome: dict[tuple[str, str | None], int]
    latencies: stats.Latencies


class StoreCollector:
    """Figures from the store, read at most once per STORE_CACHE_SECONDS."""

    def __init__(self, database: Database, cache_seconds: float = STORE_CACHE_SECONDS) -> None:
        self._database = database
        self._cache_seconds = cache_seconds
        # Held while reading, so a burst of scrapes waits for one read instead of making many.
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._figures: StoreFigures | None = None

    def collect(self) -> Iterator[Metric]:
        figures = self._current_figures()
        yield GaugeMetricFamily(
            "signoff_database_up",
            "1 when the last read of the store's figures succeeded.",
            value=0 if figures is None else 1,
        )
        if figures is not None:
            yield from _store_metrics(figures)

    def _current_figures(self) -> StoreFigures | None:
        with self._lock:
            now = time.monotonic()
            if self._read_at is None or now - self._read_at >= self._cache_seconds:
                self._figures = self._read()
                self._read_at = now
            return self._figures

    def _read(self) -> StoreFigures | None:
        try:
            with self._database.sessions() as session:
                return StoreFigures(
                    requests_by_state=stats.requests_by_state(session),
                    emails_by_status=stats.outbox_by_status(session, EMAIL),
                    inbound_by_outcome=stats.inbound_by_outcome(session),
                    latencies=stats.decision_latencies(session, LATENCY_BUCKETS_SECONDS),
                )
        except SQLAlchemyError as exc:
            log.warning("metrics: cannot read the store's figures: %s", exc)
            return None


def _store_metrics(figures: StoreFigures) -> Iterator[Metric]:
    requests = GaugeMetricFamily("signoff_requests", "Requests by state.", labels=["state"])
    for state, count in figures.requests_by_state.items():
        requests.add_metric([state], count)
    yield requests

    emails = CounterMetricFamily(
        "signoff_emails", "Emails handed to the relay (sent) or given up on (failed).", labels=["status"]
    )
    for status in (outbox.SENT, outbox.FAILED):
        emails.add_metric([status], figures.emails_by_status.get(status, 0))
    yield emails
    yield GaugeMetricFamily(
        "signoff_emails_queued",
        "Emails waiting to be sent, retries included.",
        value=figures.emails_by_status.get(outbox.PENDING, 0),
    )
    yield from _inbound_metrics(figures.inbound_by_outcome)
    yield _latency_histogram(figures.latencies)


def _inbound_metrics(by_outcome: dict[tuple[str, str | None], int]) -> Iterator[Metric]:
    by_status: dict[str, int] = {}
    rejected_by_reason = dict.fromkeys(rejection_reasons(), 0)
    for (status, reason), count in by_outcome.items():
        by_status[status] = by_status.get(status, 0) + count
        if status == inbound.REJECTED:
            reason = reason or "unknown"
            rejected_by_reason[reason] = rejected_by_reason.get(reason, 0) + count
    yield CounterMetricFamily(
        "signoff_inbound_accepted",
        "Inbound emails taken as an answer.",
        value=by_status.get(inbound.ACCEPTED, 0),
    )
    rejected = CounterMetricFamily(
        "signoff_inbound_rejected", "Inbound emails not taken as an answer, by reason.", labels=["reason"]
    )
    for reason in sorted(rejected_by_reason):
        rejected.add_metric([reason], rejected_by_reason[reason])
    yield rejected
    yield GaugeMetricFamily(
        "signoff_inbound_unprocessed",
        "Inbound emails stored but not processed yet.",
        value=by_status.get(inbound.RECEIVED, 0),
    )


def rejection_reasons() -> set[str]:
    """Every reason an inbound email can be rejected for, so each series exists from the start."""
    reasons: set[str] = set()
    kinds = list(Rejected.__subclasses__())
    while kinds:
        kind = kinds.pop()
        reasons.add(kind.reason)
        kinds.extend(kind.__subclasses__())
    return reasons


def _latency_histogram(latencies: stats.Latencies) -> HistogramMetricFamily:
    buckets = [
        (floatToGoString(bound), count)
        for bound, count in zip(LATENCY_BUCKETS_SECONDS, latencies.bucket_counts, strict=True)
    ]
    return HistogramMetricFamily(
        "signoff_decision_latency_seconds",
        "Time from a request's creation to its decision by a person (server timeouts not counted).",
        buckets=[*buckets, ("+Inf", latencies.count)],
        sum_value=latencies.total_seconds,
    )
