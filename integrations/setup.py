"""`ticketpulse setup zendesk` / `setup freshdesk`: connect a helpdesk through its API.

Zendesk: the webhook ticketpulse needs is created, or found (by endpoint, else by name) and
updated, never duplicated; its signing secret is fetched and printed as the line to put in the
environment (printed, never logged); Zendesk then sends a signed test event to the endpoint and
the answer shows whether the round trip works. `trigger=True` makes the trigger-connected variant
and its trigger with the README's body.

Freshdesk has no webhook API: the API key is checked, the groups are listed to choose
`senior_group_id` from, and the automation rules are printed exactly as to enter them.

Both check every group id the config names (`senior_group_id` and `[<helpdesk>.groups]`) against
the account's groups: a wrong one would fail each escalation at its severity.
"""

from __future__ import annotations

import json
import secrets
from typing import Callable

from ticketpulse.config import SEVERITIES, HelpdeskSection, split_secrets
from ticketpulse.escalation.helpdesk import PermanentError
from ticketpulse.integrations.freshdesk import FreshdeskClient
from ticketpulse.integrations.zendesk import ZendeskClient

Print = Callable[[str], None]

WEBHOOK_NAME = "ticketpulse"
TRIGGER_WEBHOOK_NAME = "ticketpulse (trigger)"
TRIGGER_TITLE = "ticketpulse: public comment"
# Titles setup gave the trigger before: found and updated, never left beside a second one.
EARLIER_TRIGGER_TITLES = ("ticketpulse: end-user public comment",)
TRIGGER_DESCRIPTION = ("Sends each public comment to ticketpulse, the customer's to score and the agents' replies, "
                       "which its unanswered count needs (README: trigger-connected webhook).")
CONDITIONAL = "conditional_ticket_events"
COMMENT_ADDED = "zen:event-type:ticket.comment_added"
# The feedback loop reads agents' tag changes (issue 13); the event's name is unconfirmed in
# reference/zendesk.md, so it is the only other subscription.
TAGS_CHANGED = "zen:event-type:ticket.tags_changed"
EVENTS = [COMMENT_ADDED, TAGS_CHANGED]

# The trigger-connected webhook's body: the README's template, which webhooks/zendesk.py parses.
# updated_at comes before the comment: after it, the customer's text could have added it (not read).
TRIGGER_BODY = (
    '{"ticket_id":"{{ticket.id}}","comment_id":"{{ticket.latest_comment.id}}",'
    '"updated_at":"{{ticket.updated_at_with_timestamp}}","comment":"{{ticket.latest_comment.value}}",'
    '"is_public":"{{ticket.latest_comment.is_public}}","author":"{{ticket.latest_comment.author.name}}",'
    '"author_id":"{{ticket.latest_comment.author.id}}","updater_id":"{{current_user.id}}",'
    '"updater_role":"{{current_user.role}}","requester_id":"{{ticket.requester.id}}","via":"{{ticket.via}}",'
    '"group_id":"{{ticket.group.id}}","tags":"{{ticket.tags}}"}'
)
# The README's conditions: Ticket is Updated, Comment is Public, Status less than Solved. Agents'
# public replies too (recorded as replies, never scored: the unanswered count needs them); our
# own note is private, so it never comes back. No "tags contain none of sentiment_escalated":
# severity must rise.
TRIGGER_CONDITIONS = {
    "all": [
        {"field": "update_type", "operator": "is", "value": "Change"},
        {"field": "comment_is_public", "operator": "is", "value": "true"},
        {"field": "status", "operator": "less_than", "value": "solved"},
    ],
    "any": [],
}
# What the test send carries: signed like every delivery, but an event type ticketpulse ignores
# (200 "ignored"), so verifying the round trip stores nothing.
TEST_EVENT = {"type": "zen:event-type:ticketpulse.setup_test", "id": "ticketpulse-setup-test", "event": {},
              "detail": {}, "subject": "ticketpulse setup"}

# The Freshdesk automation rule's body: the README's template, which webhooks/freshdesk.py parses.
FRESHDESK_BODY = """{"event":"{{triggered_event}}",
 "ticket":{"id":"{{ticket.id}}","subject":"{{ticket.subject}}","status":"{{ticket.status}}",
  "priority":"{{ticket.priority}}","group_id":"{{ticket.group_id}}","group":"{{ticket.group.name}}",
  "tags":"{{ticket.tags}}","url":"{{ticket.url}}"},
 "requester":{"id":"{{ticket.requester.id}}","email":"{{ticket.requester.email}}","name":"{{ticket.requester.name}}"},
 "comment_html":"{{ticket.latest_public_comment}}","comment_text":"{{ticket.latest_public_comment_text}}"}"""
FRESHDESK_RULE_NAME = "ticketpulse: customer replies"
# The agents' replies rule's body: the same, saying who wrote it (webhooks/freshdesk.py reads
# `performer`); placed before the comment, where no customer's text comes first. The replies are
# recorded, never scored: the unanswered count needs them.
FRESHDESK_AGENT_REPLY_BODY = FRESHDESK_BODY.replace(
    '{"event":"{{triggered_event}}",', '{"event":"{{triggered_event}}","performer":"agent",', 1)
FRESHDESK_AGENT_REPLY_RULE_NAME = "ticketpulse: agent replies"
# The Ticket Creation rule's body: the same, with the ticket's description as the comment (a
# ticket's first message comes with the ticket, not as a reply).
FRESHDESK_FIRST_MESSAGE_BODY = FRESHDESK_BODY.replace(
    '"comment_html":"{{ticket.latest_public_comment}}","comment_text":"{{ticket.latest_public_comment_text}}"',
    '"comment_html":"{{ticket.description}}","comment_text":"{{ticket.description_text}}"',
)
FRESHDESK_FIRST_MESSAGE_RULE_NAME = "ticketpulse: first messages"


def endpoint_url(base_url: str, helpdesk: str) -> str:
    """`https://tp.example.com` → `https://tp.example.com/webhooks/zendesk` (kept if already there)."""
    base = base_url.strip().rstrip("/")
    suffix = f"/webhooks/{helpdesk}"
    return base if base.endswith(suffix) else base + suffix


def _newest_secret(value: str | None) -> str | None:
    """A secret variable holds `old,new` while a rotation is under way (README): the rule is to
    send the new one."""
    return (split_secrets(value) or (None,))[-1]


# -- the configured groups ----------------------------------------------------------------------


def configured_groups(helpdesk: str, section: HelpdeskSection) -> dict[str, int]:
    """Each group id the config sets, by its key as written in ticketpulse.toml."""
    keys = {f"[{helpdesk}] senior_group_id": section.senior_group_id}
    keys |= {f"[{helpdesk}.groups] {severity}": getattr(section.groups, severity) for severity in SEVERITIES}
    return {key: group_id for key, group_id in keys.items() if group_id is not None}


def _short_key(key: str) -> str:
    """`[freshdesk.groups] high` -> `groups.high`: the mark beside a listed group."""
    table, name = key.split(" ")
    return f"groups.{name}" if table.endswith(".groups]") else name


def _list_groups(groups: list[dict], configured: dict[str, int], out: Print) -> None:
    for group in groups:
        keys = [_short_key(key) for key, group_id in configured.items() if group_id == group.get("id")]
        mark = f"   <- {', '.join(keys)}" if keys else ""
        out(f"  {group.get('id'):>14}  {group.get('name')}{mark}")


def _wrong_groups(groups: list[dict], configured: dict[str, int]) -> dict[str, int]:
    ids = {group.get("id") for group in groups if not group.get("deleted")}
    return {key: group_id for key, group_id in configured.items() if group_id not in ids}


def _say_wrong_groups(wrong: dict[str, int], out: Print) -> None:
    for key, group_id in wrong.items():
        out(f"{key} = {group_id} is not a group of this account: choose one above.")


# -- Zendesk ------------------------------------------------------------------------------------


def _wanted_webhook(endpoint: str, trigger: bool) -> dict:
    return {
        "name": TRIGGER_WEBHOOK_NAME if trigger else WEBHOOK_NAME,
        "description": "ticketpulse: scores customer comments and escalates frustrated customers",
        "status": "active",
        "endpoint": endpoint,
        "http_method": "POST",
        "request_format": "json",
        "subscriptions": [CONDITIONAL] if trigger else EVENTS,
    }


def _is_trigger_webhook(webhook: dict) -> bool:
    return CONDITIONAL in (webhook.get("subscriptions") or [])


def _find_webhook(webhooks: list[dict], wanted: dict, trigger: bool) -> dict | None:
    """Ours: the same kind (fixed at creation), at this endpoint, else by this name."""
    same_kind = [w for w in webhooks if _is_trigger_webhook(w) == trigger]
    by_endpoint = [w for w in same_kind if w.get("endpoint") == wanted["endpoint"]]
    by_name = [w for w in same_kind if w.get("name") == wanted["name"]]
    return (by_endpoint or by_name or [None])[0]


def _differs(existing: dict, wanted: dict) -> list[str]:
    return [key for key, value in wanted.items()
            if (sorted(existing.get(key) or []) if key == "subscriptions" else existing.get(key))
            != (sorted(value) if key == "subscriptions" else value)]


def setup_zendesk(client: ZendeskClient, base_url: str, *, trigger: bool = False,
                  current_secret: str | None = None, section: HelpdeskSection | None = None,
                  account_id: str | None = None, out: Print = print) -> bool:
    """Set up (idempotently) and verify; True when the signed test event was accepted and every
    configured group is one of the account's."""
    endpoint = endpoint_url(base_url, "zendesk")
    user = client.get_current_user()
    if user.get("id") is None:  # Zendesk answers /users/me for credentials it did not accept, too
        raise PermanentError("the API answered as an anonymous user: the credentials were not accepted "
                             "(check ZENDESK_EMAIL, ZENDESK_API_TOKEN and that token access is enabled)")
    out(f"zendesk: {client.base_url}: authenticated as {user.get('name')} <{user.get('email')}> (role {user.get('role')})")
    if user.get("role") != "admin":
        raise PermanentError(f"webhooks and triggers are managed by admins; {user.get('email')} is "
                             f"{'an' if str(user.get('role'))[:1] in 'aeiou' else 'a'} {user.get('role')}: "
                             "use an admin's API token for setup (escalations need only an agent's)")
    groups_ok = _check_zendesk_groups(client, configured_groups("zendesk", section or HelpdeskSection()), out)

    wanted = _wanted_webhook(endpoint, trigger)
    # Every webhook, not those named like ours: one at this endpoint under another name is ours too.
    webhooks = client.list_webhooks()
    existing = _find_webhook(webhooks, wanted, trigger)
    if existing is None:
        webhook_id = client.create_webhook(wanted)["id"]
        out(f"created webhook {wanted['name']!r} ({webhook_id}): POST {endpoint}, "
            + ("connected to triggers" if trigger else "events " + ", ".join(EVENTS)))
    else:
        webhook_id = existing["id"]
        changed = _differs(existing, wanted)
        if changed:
            client.update_webhook(webhook_id, wanted)
            out(f"updated webhook {wanted['name']!r} ({webhook_id}): {', '.join(changed)}")
        else:
            out(f"webhook {wanted['name']!r} ({webhook_id}) is already set up: POST {endpoint}")

    if trigger:
        _setup_trigger(client, webhook_id, out)
        _say_trigger_account(account_id, out)

    secret = client.get_signing_secret(webhook_id)
    out("")
    secret_known = secret in split_secrets(current_secret)
    other = None if secret_known else _other_kind_in_use(client, webhooks, endpoint, trigger, current_secret)
    if secret_known:
        out("ZENDESK_WEBHOOK_SECRET in this environment is already this webhook's signing secret.")
    elif len(split_secrets(current_secret)) > 1:
        # A rotation under way (old,new): a line with this webhook's secret would drop one of the
        # two (their webhook's deliveries refused), and a third is not accepted.
        whose = ""
        if other is not None:
            webhook, _other_secret = other
            whose = (f", one of them the signing secret of webhook {webhook.get('name')!r} ({webhook.get('id')}), "
                     "which delivers here too")
        out(f"ZENDESK_WEBHOOK_SECRET in this environment holds two secrets{whose}: a rotation is under way, and "
            "this webhook's would be a third (at most two are accepted). Finish the rotation (one secret left), "
            "then run this command again.")
        return False
    elif other is not None:
        # Each webhook signs with its own secret: this one's alone would refuse the other's deliveries.
        webhook, other_secret = other
        out(f"ZENDESK_WEBHOOK_SECRET in this environment is the signing secret of webhook {webhook.get('name')!r} "
            f"({webhook.get('id')}), which delivers here too. Put this line in ticketpulse's environment, so that "
            "both webhooks are accepted (each signs with its own secret; keep them private):")
        out(f"ZENDESK_WEBHOOK_SECRET={other_secret},{secret}")
    else:
        out("Put this line in ticketpulse's environment (the webhook's signing secret; keep it private):")
        out(f"ZENDESK_WEBHOOK_SECRET={secret}")
    out("")
    return _test_round_trip(client, webhook_id, endpoint, out, secret_known=secret_known) and groups_ok


def _other_kind_in_use(client: ZendeskClient, webhooks: list[dict], endpoint: str, trigger: bool,
                       current_secret: str | None) -> tuple[dict, str] | None:
    """Our webhook of the other kind (event-subscribed or trigger-connected), when the environment's
    secret is its signing secret: both deliver to ticketpulse, and both secrets must be accepted."""
    if not current_secret:
        return None
    other = _find_webhook(webhooks, _wanted_webhook(endpoint, not trigger), not trigger)
    if other is None:
        return None
    other_secret = client.get_signing_secret(other["id"])
    return (other, other_secret) if other_secret in split_secrets(current_secret) else None


def _check_zendesk_groups(client: ZendeskClient, configured: dict[str, int], out: Print) -> bool:
    """The configured group ids against the account's groups; the groups are listed only to choose
    from when one is wrong (an account may have hundreds)."""
    if not configured:
        return True
    groups = client.list_groups()
    wrong = _wrong_groups(groups, configured)
    if not wrong:
        names = {group.get("id"): group.get("name") for group in groups}
        out("groups: " + ", ".join(f"{key} = {group_id} ({names.get(group_id)})" for key, group_id in configured.items()))
        return True
    out("Groups of this account:")
    _list_groups([group for group in groups if not group.get("deleted")], configured, out)
    _say_wrong_groups(wrong, out)
    return False


def _setup_trigger(client: ZendeskClient, webhook_id: str, out: Print) -> None:
    wanted = {
        "title": TRIGGER_TITLE,
        "active": True,
        "description": TRIGGER_DESCRIPTION,
        "conditions": TRIGGER_CONDITIONS,
        "actions": [{"field": "notification_webhook", "value": [webhook_id, TRIGGER_BODY]}],
    }
    triggers = client.list_triggers()
    # Ours under its title, else under an earlier one (that trigger sent customers' comments only).
    found = ([t for t in triggers if t.get("title") == TRIGGER_TITLE]
             or [t for t in triggers if t.get("title") in EARLIER_TRIGGER_TITLES])
    if not found:
        created = client.create_trigger(wanted)
        out(f"created trigger {TRIGGER_TITLE!r} ({created.get('id')}) notifying webhook {webhook_id}")
        return
    current = found[0]
    if all(current.get(key) == value for key, value in wanted.items()):
        out(f"trigger {TRIGGER_TITLE!r} ({current.get('id')}) is already set up")
        return
    client.update_trigger(current["id"], wanted)
    changed = [key for key, value in wanted.items() if current.get(key) != value]
    out(f"updated trigger {TRIGGER_TITLE!r} ({current.get('id')}) notifying webhook {webhook_id}: {', '.join(changed)}")


def _say_trigger_account(account_id: str | None, out: Print) -> None:
    """Trigger bodies name no account (README "Account"): without ZENDESK_ACCOUNT_ID they are filed
    under `default`, and a comment that also comes by an event webhook becomes a second ticket."""
    if account_id:
        out(f"ZENDESK_ACCOUNT_ID={account_id}: the trigger's comments are filed under this account.")
        return
    out("ZENDESK_ACCOUNT_ID is not set: the trigger's bodies carry no account, so its comments are filed under "
        "account 'default', and a comment that also arrives by an event webhook becomes a second ticket. "
        "Set ZENDESK_ACCOUNT_ID to the account's number (the account_id of any event webhook, or the "
        "X-Zendesk-Account-Id header Zendesk sends) and restart.")


def _test_round_trip(client: ZendeskClient, webhook_id: str, endpoint: str, out: Print, *,
                     secret_known: bool = False) -> bool:
    answer = client.test_webhook(webhook_id, {
        "endpoint": endpoint, "http_method": "POST", "request_format": "json", "payload": json.dumps(TEST_EVENT),
    })
    status = answer.get("status")
    body = str(answer.get("body") or "")
    try:
        answered = json.loads(body)
    except ValueError:
        answered = None
    if isinstance(answered, dict):
        reason = str(answered.get("error") or answered.get("status") or "")
    else:
        reason = " ".join(body.split())[:200]
    if isinstance(status, int) and 200 <= status < 300:
        # ticketpulse ignores the test event; any other 2xx is another server (a proxy's page, a
        # catch-all route) at that URL, and nothing there would score a comment.
        if not (isinstance(answered, dict) and answered.get("status") == "ignored"):
            out(f"test event: Zendesk -> {endpoint}: {status}, but not ticketpulse's answer ({reason or 'empty'}): "
                "is --url ticketpulse's public address?")
            return False
        out(f"test event: Zendesk -> {endpoint}: {status} {reason}; the signed round trip works")
        return True
    if status == 401:
        # No line was printed when this environment has the secret: the server is not running with it.
        where = "the value this environment has" if secret_known else "the line above"
        out(f"test event: Zendesk -> {endpoint}: 401 ({reason}). Set ZENDESK_WEBHOOK_SECRET on the server to "
            f"{where}, restart it, and run this command again to verify")
    else:
        out(f"test event: Zendesk -> {endpoint}: {status} {reason}".rstrip())
    return False


# -- Freshdesk ----------------------------------------------------------------------------------


def setup_freshdesk(client: FreshdeskClient, base_url: str, *, section: HelpdeskSection,
                    current_secret: str | None, out: Print = print) -> bool:
    """Check the key, list the groups, print the rule; True unless a configured group id is no group."""
    endpoint = endpoint_url(base_url, "freshdesk")
    agent = client.get_current_agent()
    contact = agent.get("contact") if isinstance(agent.get("contact"), dict) else {}
    out(f"freshdesk: {client.base_url}: API key of {contact.get('name')} <{contact.get('email')}> (agent {agent.get('id')})")

    groups = client.list_groups()
    configured = configured_groups("freshdesk", section)
    out("")
    out("Groups (put the senior group's id in ticketpulse.toml as `[freshdesk] senior_group_id = <id>`):")
    _list_groups(groups, configured, out)
    if section.senior_group_id is None:
        out("[freshdesk] senior_group_id is not set: escalations will keep the ticket's group.")
    wrong = _wrong_groups(groups, configured)
    _say_wrong_groups(wrong, out)
    ok = not wrong

    secret = _newest_secret(current_secret)
    out("")
    if secret is None:
        secret = secrets.token_hex(24)
        out("FRESHDESK_WEBHOOK_SECRET is not set. Put this line in ticketpulse's environment (keep it private):")
        out(f"FRESHDESK_WEBHOOK_SECRET={secret}")
        out("")
    elif any(character.isspace() for character in secret):
        # Freshdesk stops a rule whose custom header value has a space: no reply would ever arrive.
        out("FRESHDESK_WEBHOOK_SECRET has a space, and Freshdesk stops a rule whose header value has one. "
            "Set it to a value without spaces (e.g. `openssl rand -hex 24`) and run this command again.")
        return False
    out("1. The automation rule for replies: Admin > Workflows > Automations > Ticket Updates > New rule")
    out(f"  Rule name:                          {FRESHDESK_RULE_NAME}")
    out("  When an action performed by:        Requester")
    out("  Involves any of these events:       Reply is sent")
    out("  On tickets with these properties:   (leave empty)")
    _print_webhook_action(endpoint, secret, FRESHDESK_BODY, out)
    out("")
    out("2. The rule for a ticket's first message: Admin > Workflows > Automations > Ticket Creation > New rule")
    out(f"  Rule name:                          {FRESHDESK_FIRST_MESSAGE_RULE_NAME}")
    out("  On tickets with these properties:   (leave empty, or Source is not Outbound Email)")
    _print_webhook_action(endpoint, secret, FRESHDESK_FIRST_MESSAGE_BODY, out)
    out("")
    out("3. The rule for agents' replies (recorded, never scored: \"2 customer messages in a row without an agent "
        "reply\" needs them): Admin > Workflows > Automations > Ticket Updates > New rule")
    out(f"  Rule name:                          {FRESHDESK_AGENT_REPLY_RULE_NAME}")
    out("  When an action performed by:        Agent")
    out("  Involves any of these events:       Reply is sent")
    out("  On tickets with these properties:   (leave empty)")
    _print_webhook_action(endpoint, secret, FRESHDESK_AGENT_REPLY_BODY, out)
    return ok


def _print_webhook_action(endpoint: str, secret: str, body: str, out: Print) -> None:
    out("  Perform these actions:              Trigger webhook")
    out("    Request type:                     POST")
    out(f"    Callback URL:                     {endpoint}")
    out("    Requires authentication:          no")
    out("    Add custom headers:               yes, this one line:")
    out(f"      X-Webhook-Token: {secret}")
    out("    Encoding:                         JSON")
    out("    Content:                          Advanced, with this body:")
    for line in body.splitlines():
        out(f"      {line}")
    out("  Save the rule and make sure it is enabled.")
