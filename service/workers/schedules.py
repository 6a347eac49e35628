"""What the server does for a request while it waits: its schedule's steps, then its timeout.

Runs in `signoff serve` and in every `signoff worker`. Due requests are locked with SKIP
LOCKED, so however many workers run each step is taken once; a timeout is the same
conditional write a click makes, so a timeout and a last-moment click cannot both win.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from signoff.models import timeout_sentence

from ..addresses import normalize_address
from ..context import Runtime
from ..decisions import decide
from ..escalation import send_follow_up
from ..mail_out.custom_template import CustomTemplateError
from ..store import events
from ..store.models import FUNCTION_CALL, HumanRequest
from ..store.requests import Decision, due_for_next_step, due_for_timeout

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
BATCH_SIZE = 50
DECIDED_VIA_TIMEOUT = "timeout"
SCHEDULE = "schedule"
REMINDER_MESSAGE = "A reminder: this request is still waiting for your decision."


class ScheduleWorker:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            for round_of in (self.take_due_steps, self.time_out_due):
                try:
                    while round_of() == BATCH_SIZE and not self._stopping.is_set():
                        pass
                except Exception:
                    # A database hiccup must not end the loop; the requests stay due.
                    log.exception("schedules: %s failed", round_of.__name__)

    def take_due_steps(self) -> int:
        """Send every due reminder or escalation of one batch; returns how many were taken."""
        return len(self._batch(due_for_next_step, self._take_step, what="schedule step"))

    def time_out_due(self) -> int:
        """Decide every due request of one batch; returns how many were decided."""
        decided = self._batch(due_for_timeout, self._time_out, what="timed out")
        for request_id in decided:
            self._runtime.request_decided(request_id)
        return len(decided)

    def _batch(
        self,
        due: Callable[[Session, int], list[HumanRequest]],
        act: Callable[[Session, HumanRequest], bool],
        what: str,
    ) -> list[int]:
        """Act on one batch of due requests in one transaction; the ids acted on, once committed."""
        with self._runtime.session() as session:
            acted = [request.id for request in due(session, BATCH_SIZE) if act(session, request)]
        for request_id in acted:
            log.info("request %s: %s", request_id, what)
        if acted:
            # Follow-up emails, and webhook posts for timeouts and escalations, wait in the outbox.
            self._runtime.mail_queued()
        return acted

    def _time_out(self, session: Session, request: HumanRequest) -> bool:
        return decide(session, request, _timeout_decision(request))

    def _take_step(self, session: Session, request: HumanRequest) -> bool:
        steps = request.spec.get("schedule") or []
        step = steps[request.steps_done] if request.steps_done < len(steps) else None
        request.steps_done += 1
        later = steps[request.steps_done] if request.steps_done < len(steps) else None
        request.next_step_at = (
            request.requested_at + timedelta(seconds=later["after_seconds"]) if later else None
        )
        if step is None:
            return True
        remind = step["action"] == "remind"
        named = (
            []
            if remind
            else [normalize_address(r["address"]) for r in step.get("additional_recipients") or []]
        )
        try:
            send_follow_up(
                session,
                self._runtime.composer,
                request,
                named,
                REMINDER_MESSAGE if remind else step.get("escalation_msg"),
                event=events.REMINDED if remind else events.ESCALATED,
                actor=events.SERVER,
                channel=SCHEDULE,
            )
        except CustomTemplateError:
            log.exception("request %s: its template cannot render the scheduled follow-up", request.id)
        return True


def _timeout_decision(request: HumanRequest) -> Decision:
    spec = request.spec
    sentence = timeout_sentence(spec.get("fn"), spec.get("timeout_seconds") or 0)
    if request.kind != FUNCTION_CALL:
        # The agent asked a question: the answer it gets is that no one gave one.
        return Decision(events.SERVER, DECIDED_VIA_TIMEOUT, response=sentence, timed_out=True)
    return Decision(
        decided_by=events.SERVER,
        decided_via=DECIDED_VIA_TIMEOUT,
        approved=spec.get("on_timeout") == "approve",
        comment=sentence,
        timed_out=True,
    )
