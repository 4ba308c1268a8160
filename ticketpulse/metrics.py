"""Prometheus metrics, one module-level object each, all named ticketpulse_*.

Label values are small fixed sets (never message text, ticket ids or free-form reasons), so the
number of time series stays bounded.
"""

from __future__ import annotations

import os

from prometheus_client import Counter, Histogram

# Multiprocess mode (gunicorn -w N): each process writes its values to files in this directory.
# Never a `ticketpulse` command's process: cli.main takes the variable out (one process, its own port).
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# --- scoring: the OpenAI-compatible LLM scorer --------------------------------------------------

# outcome: ok | timeout | connection_error | rate_limited | server_error | client_error |
#          invalid_answer | refusal | error  (one per scored message, after retries)
LLM_CALLS = Counter(
    "ticketpulse_llm_calls_total",
    "LLM scoring calls by final outcome (after retries).",
    ["outcome"],
)
# reason: rate_limited | server_error | connection_error  (one per retry)
LLM_RETRIES = Counter(
    "ticketpulse_llm_retries_total",
    "HTTP attempts to the LLM that were retried.",
    ["reason"],
)
LLM_LATENCY = Histogram(
    "ticketpulse_llm_latency_seconds",
    "Wall time of one LLM scoring call, retries and waits included.",
    buckets=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 20.0, 40.0),
)
# kind: prompt | completion
LLM_TOKENS = Counter(
    "ticketpulse_llm_tokens_total",
    "Tokens reported by the LLM server.",
    ["kind"],
)
# reason: the LLM_CALLS outcome that made the scorer fall back to the local scorer.
SCORING_FALLBACKS = Counter(
    "ticketpulse_scoring_fallbacks_total",
    "Messages scored by the local fallback because the configured scorer failed.",
    ["reason"],
)
# route: local (the local result was kept) | llm (the LLM was asked)
CASCADE_MESSAGES = Counter(
    "ticketpulse_cascade_messages_total",
    "Messages seen by the cascade scorer, by where they were decided.",
    ["route"],
)

# --- the pipeline --------------------------------------------------------------------------------

# helpdesk: zendesk | freshdesk; status: accepted | duplicate | ignored (signed, not a comment event)
WEBHOOKS = Counter(
    "ticketpulse_webhooks_total",
    "Signed webhook comment deliveries, by helpdesk and result (ignored: another event type).",
    ["helpdesk", "status"],
)
# outcome: scored | skipped | retried | failed
COMMENTS = Counter(
    "ticketpulse_comments_total",
    "Comments taken from the inbox by the worker, by outcome.",
    ["outcome"],
)
# severity: low | medium | high | critical; outcome: decided | applied | retried | failed
ESCALATIONS = Counter(
    "ticketpulse_escalations_total",
    "Escalations decided and applied, by severity and outcome.",
    ["severity", "outcome"],
)

# --- refused webhooks ----------------------------------------------------------------------------

# helpdesk: zendesk | freshdesk; reason: secret_not_set | authentication_failed | invalid_payload |
#           too_large | http_<status> (or the authentication error's own reason)
WEBHOOK_REFUSALS = Counter(
    "ticketpulse_webhook_refusals",
    "Webhook deliveries refused (401/400/413 ...), by helpdesk and reason.",
    ["helpdesk", "reason"],
)


# --- the dashboard's sign-in -------------------------------------------------------------------

# door: form | basic; outcome: signed_in | wrong_password | throttled (refused unread, 429).
# HTTP Basic sends the password with every request, so each of its requests is one attempt.
DASHBOARD_SIGN_INS = Counter(
    "ticketpulse_dashboard_sign_ins_total",
    "Dashboard password checks, by door (form, basic: every request) and outcome.",
    ["door", "outcome"],
)


def registry():
    """The registry to expose: with PROMETHEUS_MULTIPROC_DIR set (gunicorn -w N), one that adds
    up the values every process wrote there, so any process answers with the true totals."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined


# --- the conversation API -------------------------------------------------------------------------

# outcome: escalate | respond | duplicate
API_MESSAGES = Counter(
    "ticketpulse_api_messages_total",
    "Messages posted to the conversation API, by answer.",
    ["outcome"],
)
