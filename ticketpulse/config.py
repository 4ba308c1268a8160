"""Configuration: thresholds, groups and tags from one TOML file; secrets from the environment.

The file is found at $TICKETPULSE_CONFIG, else ./ticketpulse.toml, else built-in defaults are used.
Every key is validated; an unknown or wrong key is reported by its dotted name.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SEVERITIES = ("low", "medium", "high", "critical")


class ConfigError(Exception):
    """A config file or value that cannot be used; the message names the key."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        # One line per wrong key (the live reload logs each); the message joins them.
        self.problems = problems or [message]


class Section(BaseModel):
    # Strict: TOML has numbers and booleans of its own, so `true` or "0.8" where a number belongs
    # is a mistake to name, not a 1 or a 0.8 to guess (an int is still taken for a float, and a
    # whole float such as 300.0 for an int: a number is a number).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _whole_floats_as_ints(cls, data):
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name)
                # below 2**53, where every float is exactly the integer it shows
                if (isinstance(value, float) and value.is_integer() and abs(value) < 2**53
                        and field is not None and _takes_an_int(field.annotation)):
                    data = {**data, name: int(value)}
        return data


def _takes_an_int(annotation) -> bool:
    """int, Annotated[int, ...], or an Optional of one (and no float among the choices)."""
    if annotation is int:
        return True
    if get_origin(annotation) is Annotated:
        return _takes_an_int(get_args(annotation)[0])
    choices = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ()
    return any(_takes_an_int(choice) for choice in choices) and float not in choices


# A helpdesk group's id: Zendesk's and Freshdesk's are positive 64-bit integers.
GroupId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Thresholds(Section):
    # Seed names and defaults.
    frustration_threshold: float = Field(0.75, ge=0, le=1)
    negative_score_threshold: float = Field(-0.6, ge=-1, le=1)
    critical_frustration_threshold: float = Field(0.9, ge=0, le=1)
    trend_window: int = Field(3, ge=2, le=50)
    trend_delta: float = Field(0.3, gt=0, le=2)
    consecutive_negative_messages: int = Field(2, ge=1, le=20)
    # Medium severity also when the customer has written this many messages in a row with no
    # agent reply and the latest reaches `unanswered_frustration_threshold` (fitted on the
    # support dev split, cross-validated; see README "How well it decides").
    unanswered_messages: int = Field(2, ge=2, le=50)
    unanswered_frustration_threshold: float = Field(0.6, ge=0, le=1)

    @model_validator(mode="after")
    def _critical_above_frustration(self) -> "Thresholds":
        if self.critical_frustration_threshold < self.frustration_threshold:
            raise ValueError(
                "critical_frustration_threshold must be >= frustration_threshold"
            )
        return self


class Tags(Section):
    escalated: str = Field("sentiment_escalated", pattern=r"^[\w:.-]+$")
    severity_prefix: str = Field("sentiment_severity_", pattern=r"^[\w:.-]+$")
    # An agent who thinks an escalation was wrong adds this tag; ticketpulse records the verdict.
    false_alarm: str = Field("sentiment_false_alarm", pattern=r"^[\w:.-]+$")

    def severity_tag(self, severity: str) -> str:
        return f"{self.severity_prefix}{severity}"

    @model_validator(mode="after")
    def _each_tag_its_own(self) -> "Tags":
        """Two roles on one tag undo each other: an escalated tag that is the false-alarm tag
        marks every escalation a false alarm, a severity tag that is the escalated tag is
        removed as an older severity. Compared regardless of case, as a helpdesk may."""
        roles = {"escalated": self.escalated, "false_alarm": self.false_alarm}
        roles |= {f"severity_prefix + {level!r}": self.severity_tag(level) for level in SEVERITIES}
        seen: dict[str, tuple[str, str]] = {}
        for role, tag in roles.items():
            other, as_given = seen.setdefault(tag.casefold(), (role, tag))
            if other != role:
                raise ValueError(f"{other} and {role} are the same tag {as_given!r}; give each its own")
        return self


class ZendeskPriorities(Section):
    low: Literal["low", "normal", "high", "urgent"] = "normal"
    medium: Literal["low", "normal", "high", "urgent"] = "high"
    high: Literal["low", "normal", "high", "urgent"] = "urgent"
    critical: Literal["low", "normal", "high", "urgent"] = "urgent"


class FreshdeskPriorities(Section):
    # Freshdesk: 1 low, 2 medium, 3 high, 4 urgent.
    low: int = Field(2, ge=1, le=4)
    medium: int = Field(3, ge=1, le=4)
    high: int = Field(4, ge=1, le=4)
    critical: int = Field(4, ge=1, le=4)


class SeverityGroups(Section):
    """Optional senior group per severity; unset ones use senior_group_id."""

    low: GroupId | None = None
    medium: GroupId | None = None
    high: GroupId | None = None
    critical: GroupId | None = None


class HelpdeskSection(Section):
    senior_group_id: GroupId | None = None
    groups: SeverityGroups = SeverityGroups()

    def group_for(self, severity: str) -> int | None:
        return getattr(self.groups, severity) or self.senior_group_id


class ZendeskSection(HelpdeskSection):
    priority: ZendeskPriorities = ZendeskPriorities()
    # The account's API budget for ticketpulse, shared by all its workers through the database.
    # Zendesk allows 100 ticket updates a minute per account (each escalation: one read, one update).
    requests_per_minute: int = Field(100, ge=1, le=100_000)


class FreshdeskSection(HelpdeskSection):
    priority: FreshdeskPriorities = FreshdeskPriorities()
    # The account's API budget for ticketpulse, shared by all its workers through the database.
    # Freshdesk counts every call of the account (apps, webhooks too): Growth allows 200 a minute.
    requests_per_minute: int = Field(100, ge=1, le=100_000)


class OpenAISection(Section):
    model: str = Field("gpt-4o-mini", max_length=200)  # stored in each score's scorer_version
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    max_retries: int = Field(2, ge=0, le=10)
    max_output_tokens: int = Field(120, ge=16, le=2000)
    context_messages: int = Field(3, ge=0, le=20)
    # "json_schema" (structured outputs) or "json_object" for servers without schemas.
    response_format: Literal["json_schema", "json_object"] = "json_schema"
    # Longest wait between retries (on 429/5xx). A Retry-After longer than this is not waited
    # for: the message falls back to the local scorer at once, so a worker is never parked.
    max_retry_wait_seconds: float = Field(5.0, ge=0, le=120)
    # After this many calls in a row fail for an outage (timeout, connection, 429, 5xx), skip the
    # model and use the local scorer at once, trying the model again after breaker_reset_seconds.
    breaker_failures: int = Field(5, ge=1, le=1000)
    breaker_reset_seconds: float = Field(30.0, gt=0, le=3600)

    @field_validator("model")
    @classmethod
    def _a_model_name(cls, value: str) -> str:
        """A blank name can never be served: every message would fall back, check-config OK."""
        if not value.strip():
            raise ValueError("empty; give the model's name (on Azure, the deployment's), e.g. gpt-4o-mini")
        return value.strip()


class CascadeSection(Section):
    # Ask the LLM when the local result is within this distance of an escalation threshold.
    band: float = Field(0.15, ge=0, le=1)


class Scoring(Section):
    backend: Literal["local", "openai", "cascade"] = "local"
    openai: OpenAISection = OpenAISection()
    cascade: CascadeSection = CascadeSection()


class Worker(Section):
    poll_interval_seconds: float = Field(1.0, gt=0, le=60)
    lease_seconds: float = Field(20.0, ge=5, le=3600)
    concurrency: int = Field(1, ge=1, le=64)
    # With the backoff below, 24 attempts span about 2-4 hours: a helpdesk outage delays
    # escalations; only something broken for longer ends them as failed (`ticketpulse jobs`).
    max_attempts: int = Field(24, ge=1, le=1000)
    backoff_base_seconds: float = Field(5.0, gt=0, le=3600)
    backoff_max_seconds: float = Field(900.0, gt=0, le=86400)


class Webhooks(Section):
    max_body_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # A Zendesk signature older (or further in the future) than this is refused: a captured
    # request cannot be replayed later. 5 minutes, as Standard Webhooks.
    signature_tolerance_seconds: int = Field(300, ge=30, le=3600)


class Tone(Section):
    """The tone hint the API returns for the next reply, by the customer's state."""

    # One instruction per sentiment label of the latest customer message.
    negative: str = Field(
        "Be empathetic and solution-focused: acknowledge the problem in one sentence, say what you "
        "are doing about it, and give a concrete next step with a time. No blame, no jargon.",
        min_length=1, max_length=2000,
    )
    neutral: str = Field(
        "Be professional and clear: answer the question directly, in plain words, with the steps "
        "or the information they need and nothing they did not ask for.",
        min_length=1, max_length=2000,
    )
    positive: str = Field(
        "Be friendly and match their energy: thank them, keep it short and warm, and confirm "
        "anything still open.",
        min_length=1, max_length=2000,
    )
    # The stronger one, when the trend is declining or frustration reaches deescalate_frustration.
    deescalate: str = Field(
        "The customer is losing patience. Name their frustration and take ownership; do not repeat "
        "an earlier answer or ask for details they already gave; offer the fastest real fix, or a "
        "named person and a time you will come back by. Short sentences, no scripted apology, no "
        "upselling.",
        min_length=1, max_length=2000,
    )
    deescalate_frustration: float = Field(0.7, ge=0, le=1)
    # A positive message with at least this frustration ("thanks, but it is still broken") gets
    # the negative instruction: friendly is for customers who are not fed up.
    friendly_max_frustration: float = Field(0.3, ge=0, le=1)


class Config(Section):
    thresholds: Thresholds = Thresholds()
    tags: Tags = Tags()
    zendesk: ZendeskSection = ZendeskSection()
    freshdesk: FreshdeskSection = FreshdeskSection()
    scoring: Scoring = Scoring()
    worker: Worker = Worker()
    webhooks: Webhooks = Webhooks()
    tone: Tone = Tone()

    def group_for(self, helpdesk: str, severity: str) -> int | None:
        """The group an escalation of `severity` moves a `helpdesk` ticket to; None: it keeps its
        group (none configured, or a helpdesk without a section, as the conversation API's)."""
        section = getattr(self, helpdesk, None)
        return section.group_for(severity) if isinstance(section, HelpdeskSection) else None


class Environment(BaseSettings):
    """Secrets and endpoints, from the environment only."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = "sqlite:///ticketpulse.db"
    zendesk_subdomain: str | None = None
    # The Zendesk account's number, for trigger webhooks (their body has no account_id).
    zendesk_account_id: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = None
    zendesk_webhook_secret: str | None = None
    zendesk_base_url: str | None = None
    freshdesk_domain: str | None = None
    freshdesk_api_key: str | None = None
    freshdesk_webhook_secret: str | None = None
    freshdesk_base_url: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    port: int = Field(8000, ge=1, le=65535)
    # The conversation API's bearer keys, comma or space separated (several, for rotation).
    ticketpulse_api_keys: str | None = None

    @field_validator("database_url", "zendesk_email", "zendesk_api_token", "freshdesk_api_key", "openai_api_key",
                     "dashboard_password", mode="before")
    @classmethod
    def _without_surrounding_whitespace(cls, value, info):
        """A value pasted with its newline (a Kubernetes secret made from a file): kept, the
        newline made a token fail with 401, an OpenAI key a 'Connection error', a dashboard
        password one no browser can type, and a SQLite URL another database file
        ("ticketpulse.db\n"). Blank is not set."""
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value if value or info.field_name == "database_url" else None

    @field_validator("zendesk_subdomain")
    @classmethod
    def _a_zendesk_subdomain(cls, value: str | None) -> str | None:
        """`acme`; `acme.zendesk.com` or `https://acme.zendesk.com/` are taken as `acme`."""
        return zendesk_subdomain(value)

    @field_validator("freshdesk_domain")
    @classmethod
    def _a_freshdesk_domain(cls, value: str | None) -> str | None:
        """`acme` or `acme.freshdesk.com`; a URL is taken as its host name."""
        return freshdesk_domain(value)

    @field_validator("zendesk_base_url", "freshdesk_base_url", "openai_base_url")
    @classmethod
    def _an_api_url(cls, value: str | None, info) -> str | None:
        """Refused at start, not at the first escalation: an http(s) URL with a host."""
        if value is None or not value.strip():
            return None
        return http_url(value, example=API_URL_EXAMPLES[info.field_name])

    # The leads' dashboard at /dashboard is refused until this is set.
    dashboard_password: str | None = None
    # The proxies in front of the server whose X-Forwarded-For entry names the client (the
    # dashboard's sign-in throttle counts per client): addresses or networks, comma or space
    # separated. Anyone else could write that header, so it is read from these only.
    ticketpulse_trusted_proxies: str = "127.0.0.0/8 ::1"

    @field_validator("ticketpulse_trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        trusted_proxy_networks(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _a_database_url(cls, value: str) -> str:
        """A URL SQLAlchemy can open, e.g. sqlite:///ticketpulse.db or postgresql://user@host/db."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(normalize_url(value))
            dialect = url.get_dialect()
        except ArgumentError as exc:  # unparsable, or a dialect SQLAlchemy does not know
            raise ValueError(
                f"not a database URL ({exc}); expected e.g. sqlite:///ticketpulse.db or "
                "postgresql+psycopg://user:password@host/ticketpulse"
            ) from None
        try:
            dialect.import_dbapi()
        except ImportError as exc:
            raise ValueError(f"the driver for {url.drivername} is not installed ({exc})") from None
        if url.get_backend_name() == "sqlite" and _in_memory(url.database, url.query):
            # Each connection would get a database of its own: the webhooks would store comments
            # the worker never sees, and nothing would survive a restart.
            raise ValueError(
                "an in-memory SQLite database is private to each connection (the web server and "
                "the worker would each see an empty one of their own); use a file, e.g. sqlite:///ticketpulse.db"
            )
        return value

    @field_validator("zendesk_account_id")
    @classmethod
    def _an_account_number(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 20):
            raise ValueError("not an account number (digits, e.g. 9876543: the account_id of Zendesk's events)")
        return str(int(value))

    @field_validator("zendesk_webhook_secret", "freshdesk_webhook_secret")
    @classmethod
    def _one_or_two_secrets(cls, value: str | None) -> str | None:
        """One secret, or two comma-separated (old,new) while a rotation is under way."""
        if not split_secrets(value):
            # Blank (`SECRET= ` in an env file) is not set: every delivery would be refused, so
            # check-config and serve must say so rather than report a secret.
            return None
        if len(split_secrets(value)) > 2:
            raise ValueError("at most two comma-separated secrets (the old and the new one, during a rotation)")
        return value

    @property
    def zendesk_webhook_secrets(self) -> tuple[str, ...]:
        return split_secrets(self.zendesk_webhook_secret)

    @property
    def freshdesk_webhook_secrets(self) -> tuple[str, ...]:
        return split_secrets(self.freshdesk_webhook_secret)

    @field_validator("ticketpulse_api_keys")
    @classmethod
    def _strong_api_keys(cls, value: str | None) -> str | None:
        for key in api_keys(value):
            if len(key) < MIN_API_KEY_LENGTH:
                raise ValueError(
                    f"a key is {len(key)} characters; use at least {MIN_API_KEY_LENGTH} "
                    "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
                )
        return value

    @field_validator("dashboard_password")
    @classmethod
    def _strong_dashboard_password(cls, value: str | None) -> str | None:
        """The dashboard quotes customers, and its sign-in is open to anyone who reaches it:
        a short password is guessed online."""
        if value is not None and len(value) < MIN_DASHBOARD_PASSWORD_LENGTH:
            raise ValueError(
                f"{len(value)} characters; use at least {MIN_DASHBOARD_PASSWORD_LENGTH} "
                "(e.g. `openssl rand -hex 16`)"
            )
        return value

    @property
    def api_keys(self) -> tuple[str, ...]:
        return api_keys(self.ticketpulse_api_keys)

    @property
    def trusted_proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return trusted_proxy_networks(self.ticketpulse_trusted_proxies)

    @property
    def zendesk_api_url(self) -> str | None:
        if self.zendesk_base_url:
            return self.zendesk_base_url.rstrip("/")
        if self.zendesk_subdomain:
            return f"https://{self.zendesk_subdomain}.zendesk.com"
        return None

    @property
    def zendesk_url_variable(self) -> str:
        """The variable zendesk_api_url comes from, for messages that say what to check."""
        return "ZENDESK_BASE_URL" if self.zendesk_base_url else "ZENDESK_SUBDOMAIN"

    @property
    def freshdesk_api_url(self) -> str | None:
        if self.freshdesk_base_url:
            return self.freshdesk_base_url.rstrip("/")
        if self.freshdesk_domain:
            domain = self.freshdesk_domain
            if "." not in domain:
                domain = f"{domain}.freshdesk.com"
            return f"https://{domain}"
        return None

    @property
    def freshdesk_url_variable(self) -> str:
        """The variable freshdesk_api_url comes from, for messages that say what to check."""
        return "FRESHDESK_BASE_URL" if self.freshdesk_base_url else "FRESHDESK_DOMAIN"


def _in_memory(database: str | None, query) -> bool:
    """sqlite://, sqlite:///:memory:, sqlite:///file::memory:?uri=true, ...?mode=memory"""
    return not database or ":memory:" in database or query.get("mode") == "memory"


def normalize_url(url: str) -> str:
    # Accept the URLs people paste (postgres://, postgresql://) and use the psycopg 3 driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def split_secrets(value: str | None) -> tuple[str, ...]:
    """`old,new` → ("old", "new"); spaces around each and empty parts are dropped."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


API_URL_EXAMPLES = {
    "zendesk_base_url": "https://acme.zendesk.com",
    "freshdesk_base_url": "https://acme.freshdesk.com",
    "openai_base_url": "https://api.openai.com/v1",
}


def http_url(value: str, example: str) -> str:
    """`value` stripped, if it is an http or https URL with a host (and a valid port, if any);
    else a ValueError that shows `example`."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - reading it checks it: "host:http" or a port over 65535 raise
    except ValueError as exc:  # "http://[::1": an unclosed IPv6 address ...
        raise ValueError(f"{text!r} is not a URL like {example} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not a URL like {example} (http or https, with a host)")
    return text


_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _host_of(value: str) -> str:
    """`https://Acme.zendesk.com/agent/` → `acme.zendesk.com`; a bare name stays as it is."""
    text = value.strip()
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.rstrip(".").lower()


def zendesk_subdomain(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    host = _host_of(value)
    name = host.removesuffix(".zendesk.com")
    if not _HOST_LABEL.match(name):
        raise ValueError(
            f"{value.strip()!r} is not a Zendesk subdomain; give `acme` for https://acme.zendesk.com "
            "(for another address set ZENDESK_BASE_URL instead)"
        )
    return name


def freshdesk_domain(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    host = _host_of(value)
    if not host or not all(_HOST_LABEL.match(label) for label in host.split(".")):
        raise ValueError(
            f"{value.strip()!r} is not a Freshdesk domain; give `acme` or `acme.freshdesk.com`"
        )
    return host


def check_credentials(env: "Environment") -> None:
    """Partial API credentials are a mistake, not a wish for dry-run: name what is missing."""
    problems = []
    zendesk = {"ZENDESK_EMAIL": env.zendesk_email, "ZENDESK_API_TOKEN": env.zendesk_api_token}
    if any(zendesk.values()):
        problems += [f"{name}: not set, but {', '.join(k for k, v in zendesk.items() if v)} is"
                     for name, value in zendesk.items() if not value]
        if not env.zendesk_api_url:
            problems.append("ZENDESK_SUBDOMAIN: not set (nor ZENDESK_BASE_URL), but the Zendesk API credentials are")
    if env.freshdesk_api_key and not env.freshdesk_api_url:
        problems.append("FRESHDESK_DOMAIN: not set (nor FRESHDESK_BASE_URL), but FRESHDESK_API_KEY is")
    if problems:
        message = "; ".join(problems) + " (set all of them to go live, or none for dry-run)"
        raise ConfigError(f"environment: {message}", [f"environment: {p}" for p in problems])


MIN_API_KEY_LENGTH = 16
MIN_DASHBOARD_PASSWORD_LENGTH = 12


def api_keys(value: str | None) -> tuple[str, ...]:
    """TICKETPULSE_API_KEYS split on commas and whitespace."""
    return tuple(key for key in (value or "").replace(",", " ").split() if key)


def trusted_proxy_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """TICKETPULSE_TRUSTED_PROXIES: `10.0.0.5, 10.1.0.0/16` (blank: no proxy is trusted)."""
    networks = []
    for item in value.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(networks)


def config_path(explicit: str | os.PathLike | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    if env := os.environ.get("TICKETPULSE_CONFIG"):
        return Path(env)
    default = Path("ticketpulse.toml")
    return default if default.exists() else None


def field_problems(exc: ValidationError, *, top: str = "(top level)", unknown: str = "unknown key",
                   environment: bool = False) -> list[str]:
    """Each of pydantic's errors as `field: what is wrong`: the one wording for the config file,
    the environment, API bodies and LLM answers. `top` names the whole document, `unknown` says
    what an extra key is; `environment` writes the field as its variable (DATABASE_URL)."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or top
        if environment:
            field = field.upper()
        if error["type"] == "extra_forbidden":
            problem = unknown
        elif error["type"] == "missing":
            problem = "missing"
        else:
            problem = error["msg"].removeprefix("Value error, ")
        problems.append(f"{field}: {problem}")
    return problems


def parse_config(data: dict, source: str = "config") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        messages = field_problems(exc)
        raise ConfigError(f"{source}: " + "; ".join(messages), [f"{source}: {m}" for m in messages]) from None


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read and validate the config file; built-in defaults when there is none."""
    found = config_path(path)
    if found is None:
        return Config()
    try:
        # utf-8-sig: a file saved "UTF-8 with BOM" (Windows Notepad) is UTF-8; read as plain
        # UTF-8 its BOM was "not valid TOML: Invalid statement (at line 1, column 1)".
        data = tomllib.loads(found.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{found}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{found}: is a directory, not a config file") from None
    except OSError as exc:  # permission denied, an unreadable device ...
        raise ConfigError(f"{found}: cannot read the config file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{found}: not UTF-8 text (byte {exc.start}); save the config file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: not valid TOML: {exc}") from None
    return parse_config(data, str(found))


def load_environment() -> Environment:
    try:
        return Environment()
    except ValidationError as exc:
        raise ConfigError("environment: " + "; ".join(field_problems(exc, environment=True))) from None
