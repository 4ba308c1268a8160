"""Dry-run: no API credentials, so log the requests an escalation would send and send nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

from ticketpulse.escalation.helpdesk import Applied

log = logging.getLogger("ticketpulse.helpdesk")


def log_dry_run(helpdesk: str, base_url: str, requests: list[dict[str, Any]], ticket_ref: str = "") -> Applied:
    """Log the exact requests that would have been sent; send nothing."""
    for sent in requests:
        log.warning(
            "ticket %s: DRY RUN (no %s credentials): %s %s%s %s",
            ticket_ref, helpdesk, sent["method"], base_url, sent["path"], json.dumps(sent["json"]),
        )
    return Applied(requests=requests, dry_run=True)
