"""API keys verified in the last second, so a burst of requests costs one key lookup.

The store stays the authority: an entry lives at most `RECHECK_SECONDS`, so a key revoked
by any process (`signoff keys revoke`, another node) stops working within that time, and an
entry past its key's expiry is never used.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from .store.types import utcnow

RECHECK_SECONDS = 1.0
# Only keys that checked out are kept, but a bound keeps memory flat whatever the traffic.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class VerifiedKey:
    project_id: int
    can_decide: bool
    expires_at: datetime | None


class VerifiedKeys:
    def __init__(self, recheck_seconds: float = RECHECK_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self._recheck_seconds = recheck_seconds
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, VerifiedKey]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> VerifiedKey | None:
        """The key's verification if it is recent and the key has not expired since."""
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        verified_at, verified = entry
        if time.monotonic() - verified_at >= self._recheck_seconds:
            return None
        if verified.expires_at is not None and verified.expires_at <= utcnow():
            return None
        return verified

    def put(self, key_hash: str, verified: VerifiedKey) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries = {
                    name: entry
                    for name, entry in self._entries.items()
                    if now - entry[0] < self._recheck_seconds
                }
                if len(self._entries) >= self._max_entries:
                    self._entries.clear()
            self._entries[key_hash] = (now, verified)
