"""Each helpdesk's outbound side in one module (client, update body, adapter, dry-run), sharing
one HTTP policy (`http.py`); `build_helpdesks` picks live adapters or dry-runs from the environment."""

from __future__ import annotations

from ticketpulse.config import Config, Environment, check_credentials
from ticketpulse.escalation.helpdesk import Helpdesk
from ticketpulse.integrations.freshdesk import DryRunFreshdesk, FreshdeskClient, FreshdeskHelpdesk
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import DryRunZendesk, ZendeskClient, ZendeskHelpdesk


def build_helpdesks(
    config: Config, env: Environment, policy: HttpPolicy | None = None, *, new_policy=None
) -> dict[str, Helpdesk]:
    """A live adapter where the API credentials are set, else a dry-run that logs what it would send.

    `new_policy`: a callable giving each client its own HttpPolicy (its own connection pool)."""
    check_credentials(env)
    if policy is None and new_policy is not None:
        zendesk_policy, freshdesk_policy = new_policy(), new_policy()
    else:
        zendesk_policy = freshdesk_policy = policy
    helpdesks: dict[str, Helpdesk] = {}
    if env.zendesk_api_url and env.zendesk_email and env.zendesk_api_token:
        # A 404 names the variable the address came from.
        client = ZendeskClient(env.zendesk_api_url, env.zendesk_email, env.zendesk_api_token, zendesk_policy,
                               url_variable=env.zendesk_url_variable)
        helpdesks["zendesk"] = ZendeskHelpdesk(client)
    else:
        helpdesks["zendesk"] = DryRunZendesk(env.zendesk_api_url)
    if env.freshdesk_api_url and env.freshdesk_api_key:
        helpdesks["freshdesk"] = FreshdeskHelpdesk(FreshdeskClient(
            env.freshdesk_api_url, env.freshdesk_api_key, freshdesk_policy,
            url_variable=env.freshdesk_url_variable))
    else:
        helpdesks["freshdesk"] = DryRunFreshdesk(env.freshdesk_api_url)
    return helpdesks
