"""The staff audit log: who did what, when and from where, one JSON line per action, numbers masked.

Logins (successful, failed, refused by the throttle), logouts, uploads, deletions, rebuilds and removals of
failed uploads are written to ``security.audit_log`` (default ``<index_dir>/audit.log``) and to the
``assistant.audit`` logger.  Personal numbers in any field (a user name typed into the login form, a file
name) are masked as everywhere else.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from assistant.privacy import mask_pii

log = logging.getLogger("assistant.audit")


class AuditLog:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def record(self, action: str, *, actor: str, client: str, outcome: str = "ok", **detail) -> dict:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "actor": actor,
            "action": action,
            "outcome": outcome,
            "client": client,
            **detail,
        }
        entry = _masked(entry)
        line = json.dumps(entry, ensure_ascii=False)
        log.info("%s", line)
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
        except OSError as exc:  # a full or read-only disk must not stop a login; the logger still has it
            log.error("audit log %s cannot be written: %s", self.path, exc.strerror)
        return entry

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _masked(value):
    if isinstance(value, str):
        return mask_pii(value)[:500]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value[:100]]
    return value
