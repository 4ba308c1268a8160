"""`ticketpulse check-config`: refuse what `serve` would refuse, say what would run, and with
`--online` ask each helpdesk API and the LLM whether the credentials work.

Secrets are never printed: only whether they are set.
"""

from __future__ import annotations

from dataclasses import dataclass

from ticketpulse.config import SEVERITIES, Config, Environment, HelpdeskSection
from ticketpulse.webhooks.refusals import WEBHOOK_SECRETS


def refuse_what_serve_refuses(config: Config, env: Environment) -> None:
    """Build what `serve` builds from the config and environment, so its ConfigErrors (same
    code, same message) surface here. Nothing is contacted."""
    from ticketpulse.integrations import build_helpdesks
    from ticketpulse.sentiment.factory import build_openai_scorer

    build_helpdesks(config, env)
    if config.scoring.backend in ("openai", "cascade"):
        build_openai_scorer(config, env, fallback=None)


def describe(config: Config, env: Environment) -> list[str]:
    """What would run: per helpdesk live or dry-run, its webhook secret, the scorer."""
    lines = []
    helpdesks = {"zendesk": (env.zendesk_api_url, env.zendesk_email), "freshdesk": (env.freshdesk_api_url, None)}
    for helpdesk, (url, user) in helpdesks.items():
        missing = missing_credentials(env, helpdesk)
        if not missing:
            mode = f"live at {url}" + (f" as {user}" if user else "")
        else:  # only what is missing: "set ZENDESK_SUBDOMAIN" when it is set sent the admin in circles
            mode = f"dry-run (no API credentials; set {and_list(missing)} to go live)"
        lines.append(f"{helpdesk}: {mode}; {_groups(getattr(config, helpdesk))}")
        variable = WEBHOOK_SECRETS[helpdesk]
        secret = getattr(env, variable.lower())
        lines.append(
            f"{helpdesk} webhook: {variable} is set" if secret
            else f"{helpdesk} webhook: {variable} is NOT set: every POST /webhooks/{helpdesk} is refused (401)"
        )
        if helpdesk == "zendesk":
            lines.append(_zendesk_account(env))
    scoring = config.scoring
    if scoring.backend == "local":
        lines.append("scoring backend: local (offline)")
    else:
        lines.append(f"scoring backend: {scoring.backend} (model {scoring.openai.model} at {_llm_url(env)})")
    return lines


def missing_credentials(env: Environment, helpdesk: str) -> list[str]:
    """The variables a helpdesk's live API calls still need (none: live)."""
    needed = {
        "zendesk": {"ZENDESK_SUBDOMAIN": env.zendesk_api_url, "ZENDESK_EMAIL": env.zendesk_email,
                    "ZENDESK_API_TOKEN": env.zendesk_api_token},
        "freshdesk": {"FRESHDESK_DOMAIN": env.freshdesk_api_url, "FRESHDESK_API_KEY": env.freshdesk_api_key},
    }[helpdesk]
    return [name for name, value in needed.items() if not value]


def and_list(names: list[str]) -> str:
    """["A", "B", "C"] -> "A, B and C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _groups(section: HelpdeskSection) -> str:
    """Where escalations go, with the [<helpdesk>.groups] that differ from senior_group_id: 'senior
    group not set (escalations keep the group)' alone was wrong when a critical one moves."""
    senior = section.senior_group_id
    own = {level: section.group_for(level) for level in SEVERITIES if section.group_for(level) != senior}
    if not own:
        return f"senior group {senior or 'not set (escalations keep the group)'}"
    moved = ", ".join(f"{level}: {group}" for level, group in own.items())
    if senior:
        return f"senior group {senior} ({moved})"
    kept = [level for level in SEVERITIES if level not in own]
    return f"senior group not set ({moved}" + (f"; {', '.join(kept)} keep the group)" if kept else ")")


def _zendesk_account(env: Environment) -> str:
    """Trigger bodies name no account (README "Account"): said here, as nothing can tell whether a
    trigger-connected webhook is in use."""
    if env.zendesk_account_id:
        return f"zendesk account: ZENDESK_ACCOUNT_ID={env.zendesk_account_id} (for trigger-connected webhooks)"
    return ("zendesk account: ZENDESK_ACCOUNT_ID is not set: a trigger-connected webhook's comments are filed under "
            "account 'default', and one that also arrives by an event webhook becomes a second ticket "
            "(set it if you use the trigger webhook)")


@dataclass(frozen=True)
class Answer:
    service: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.service}: {'OK' if self.ok else 'FAILED'}: {self.detail}"


def online(config: Config, env: Environment) -> list[Answer]:
    """Call each configured API once with the credentials; a short timeout and no retries."""
    from ticketpulse.integrations.freshdesk import FreshdeskClient
    from ticketpulse.integrations.http import HttpPolicy
    from ticketpulse.integrations.zendesk import ZendeskClient

    policy = HttpPolicy(timeout=(5.0, 10.0), attempts=1)
    answers = []
    if env.zendesk_api_url and env.zendesk_email and env.zendesk_api_token:
        client = ZendeskClient(env.zendesk_api_url, env.zendesk_email, env.zendesk_api_token, policy,
                               url_variable=env.zendesk_url_variable)
        answers.append(_ask("zendesk", env.zendesk_api_url, lambda: _zendesk_user(client.get_current_user())))
    if env.freshdesk_api_url and env.freshdesk_api_key:
        client = FreshdeskClient(env.freshdesk_api_url, env.freshdesk_api_key, policy,
                                 url_variable=env.freshdesk_url_variable)
        answers.append(_ask("freshdesk", env.freshdesk_api_url, lambda: _freshdesk_agent(client.get_current_agent())))
    if config.scoring.backend != "local":
        answers.append(_ask_llm(config, env))
    return answers


def _ask(service: str, url: str, call) -> Answer:
    from ticketpulse.escalation.helpdesk import HelpdeskError

    try:
        return Answer(service, *call())
    except HelpdeskError as exc:
        return Answer(service, False, _first_line(exc))
    except Exception as exc:  # noqa: BLE001 - anything the transport raises is the answer
        return Answer(service, False, f"{url}: {type(exc).__name__}: {_first_line(exc)}")


def _zendesk_user(user: dict) -> tuple[bool, str]:
    role = user.get("role") or "?"
    who = f"{user.get('name') or '?'} <{user.get('email') or '?'}>, role {role}"
    if user.get("id") is None:
        return False, "the API answered as an anonymous user: the credentials were not accepted"
    if role == "end-user":
        return False, f"authenticated as {who}: an end-user cannot update tickets; use an agent's token"
    return True, f"authenticated as {who}"


def _freshdesk_agent(agent: dict) -> tuple[bool, str]:
    contact = agent.get("contact") if isinstance(agent.get("contact"), dict) else {}
    return True, f"authenticated as {contact.get('name') or '?'} <{contact.get('email') or '?'}> (agent {agent.get('id')})"


def _llm_url(env: Environment) -> str:
    from ticketpulse.sentiment.llm import DEFAULT_BASE_URL

    return env.openai_base_url or DEFAULT_BASE_URL


def _ask_llm(config: Config, env: Environment) -> Answer:
    """One chat completion of one token with the configured model: key, URL and model name."""
    import openai

    from ticketpulse.sentiment.factory import DUMMY_API_KEY
    from ticketpulse.sentiment.llm import make_client, max_tokens_field

    section = config.scoring.openai
    url = _llm_url(env)
    client = make_client(env.openai_api_key or DUMMY_API_KEY, env.openai_base_url, section.timeout_seconds)
    limit = max_tokens_field(env.openai_base_url)
    try:
        reply = client.chat.completions.create(
            model=section.model, messages=[{"role": "user", "content": "Reply with OK."}], **{limit: 1}
        )
    except openai.APIStatusError as exc:
        return Answer("llm", False, f"{url} answered {exc.status_code} for model {section.model}: {_first_line(exc.message)}")
    except openai.APIError as exc:
        return Answer("llm", False, f"{url}: {type(exc).__name__}: {_first_line(exc)}")
    return Answer("llm", True, f"{url} answered with model {reply.model or section.model}")


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip()[:300] if lines else ""
