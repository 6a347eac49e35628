"""Wake long-polls the moment their request is decided.

A long-poll subscribes a `Ticket` for its request *before* it reads the request's state,
so a decision that lands between the read and the wait still wakes it. Tickets can be
waited on from a thread (plain WSGI servers) or from the event loop (`signoff serve`,
where a waiting agent costs a future, not a thread).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable


class Ticket:
    def __init__(self, ticket_id: int, key: str) -> None:
        self.id = ticket_id
        self.key = key
        self._fired = threading.Event()
        self._lock = threading.Lock()
        self._wakers: list[Callable[[], None]] = []

    def fire(self) -> None:
        with self._lock:
            self._fired.set()
            wakers, self._wakers = self._wakers, []
        for wake in wakers:
            wake()

    def wait(self, timeout: float) -> bool:
        """Block this thread until fired or `timeout`; True when fired."""
        return self._fired.wait(timeout)

    async def wait_async(self, timeout: float) -> bool:
        """Wait on the running loop until fired or `timeout`; True when fired."""
        loop = asyncio.get_running_loop()
        fired = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(lambda: fired.done() or fired.set_result(True))

        with self._lock:
            if self._fired.is_set():
                return True
            self._wakers.append(wake)
        try:
            return await asyncio.wait_for(fired, timeout)
        except TimeoutError:
            return False


class DecisionHub:
    """Tickets by request key; `publish` fires every ticket of a key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._by_key: dict[str, dict[int, Ticket]] = {}
        self._by_id: dict[int, Ticket] = {}

    def subscribe(self, key: str) -> Ticket:
        with self._lock:
            ticket = Ticket(next(self._ids), key)
            self._by_key.setdefault(key, {})[ticket.id] = ticket
            self._by_id[ticket.id] = ticket
        return ticket

    def ticket(self, ticket_id: int) -> Ticket | None:
        with self._lock:
            return self._by_id.get(ticket_id)

    def release(self, ticket: Ticket) -> None:
        with self._lock:
            self._by_id.pop(ticket.id, None)
            tickets = self._by_key.get(ticket.key)
            if tickets is not None:
                tickets.pop(ticket.id, None)
                if not tickets:
                    del self._by_key[ticket.key]

    def publish(self, key: str) -> None:
        with self._lock:
            tickets = list(self._by_key.get(key, {}).values())
        for ticket in tickets:
            ticket.fire()

    def waited_keys(self) -> list[str]:
        with self._lock:
            return list(self._by_key)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._by_id)


REQUEST_KEY_PREFIX = "request:"


def request_key(request_id: int) -> str:
    return f"{REQUEST_KEY_PREFIX}{request_id}"


def request_ids_waited_on(hub: DecisionHub) -> list[int]:
    """The ids of the requests that some long-poll of this process is waiting on."""
    keys = hub.waited_keys()
    return [int(key.removeprefix(REQUEST_KEY_PREFIX)) for key in keys if key.startswith(REQUEST_KEY_PREFIX)]
