"""Dry-run: no API credentials, so log the requests an escalation would send and send nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

from ticketpulse.escalation.helpdesk import Applied

log = logging.getLogger("ticketpulse.helpdesk")

# Fields that carry the internal note: it quotes the customer's words ("What moved the score"),
# and customer text never goes to the log. The request kept in the database has it in full.
NOTE_FIELDS = frozenset({"body", "html_body"})


def loggable(value: Any) -> Any:
    """The request with every note text replaced by its length: its shape, tags and ids stay."""
    if isinstance(value, dict):
        return {
            key: f"<note, {len(item)} characters, not logged>" if key in NOTE_FIELDS and isinstance(item, str)
            else loggable(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [loggable(item) for item in value]
    return value


def log_dry_run(helpdesk: str, base_url: str, requests: list[dict[str, Any]], ticket_ref: str = "") -> Applied:
    """Log the requests that would have been sent (note texts left out); send nothing."""
    for sent in requests:
        log.warning(
            "ticket %s: DRY RUN (no %s credentials): %s %s%s %s",
            ticket_ref, helpdesk, sent["method"], base_url, sent["path"], json.dumps(loggable(sent["json"])),
        )
    return Applied(requests=requests, dry_run=True)
