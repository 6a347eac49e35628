"""Decide, for the absent, the requests whose own timeout has passed.

Runs in `signoff serve` and in every `signoff worker`; rows are locked with SKIP LOCKED
and the decision is the same conditional write a click makes, so however many workers run
and whoever clicks at the last moment, each request gets exactly one outcome.
"""

from __future__ import annotations

import logging
import threading

from signoff.models import timeout_sentence

from ..context import Runtime
from ..decisions import decide
from ..store import events
from ..store.models import HumanRequest
from ..store.requests import Decision, due_for_timeout

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
BATCH_SIZE = 50
DECIDED_VIA_TIMEOUT = "timeout"


class TimeoutWorker:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="timeouts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            try:
                while self.time_out_due() == BATCH_SIZE and not self._stopping.is_set():
                    pass
            except Exception:
                # A database hiccup must not end the loop; the requests stay due.
                log.exception("timeouts: round failed")

    def time_out_due(self) -> int:
        """Decide every due request of one batch; returns how many were decided."""
        with self._runtime.session() as session:
            decided = [
                request.id
                for request in due_for_timeout(session, BATCH_SIZE)
                if decide(session, request, _timeout_decision(request))
            ]
        for request_id in decided:
            log.info("request %s timed out", request_id)
            self._runtime.request_decided(request_id)
        return len(decided)


def _timeout_decision(request: HumanRequest) -> Decision:
    spec = request.spec
    seconds = spec.get("timeout_seconds") or 0
    return Decision(
        decided_by=events.SERVER,
        decided_via=DECIDED_VIA_TIMEOUT,
        approved=spec.get("on_timeout") == "approve",
        comment=timeout_sentence(spec.get("fn", "the request"), seconds),
        timed_out=True,
    )
