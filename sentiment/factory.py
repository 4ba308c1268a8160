"""Build the configured scorer: [scoring] backend = "local" | "openai" | "cascade"."""

from __future__ import annotations

from ticketpulse.sentiment.base import Scorer
from ticketpulse.config import Config, ConfigError, Environment

# Self-hosted servers (Ollama, vLLM, LiteLLM without auth) ignore the key, but the client wants one.
DUMMY_API_KEY = "not-needed"


def _local_scorer() -> Scorer:
    from ticketpulse.sentiment.local import LocalScorer

    return LocalScorer()


def build_openai_scorer(config: Config, env: Environment, *, fallback: Scorer | None):
    from ticketpulse.sentiment.llm import LLMSettings, OpenAIScorer, is_openai_host, make_client, max_tokens_field

    section = config.scoring.openai
    base_url = env.openai_base_url or None
    hosted = is_openai_host(base_url)
    api_key = env.openai_api_key
    if not api_key:
        if hosted:
            where = base_url or "api.openai.com"
            raise ConfigError(
                f"OPENAI_API_KEY: not set, and [scoring] backend = \"{config.scoring.backend}\" "
                f"calls {where}; set OPENAI_API_KEY, or OPENAI_BASE_URL for a self-hosted server"
            )
        api_key = DUMMY_API_KEY
    settings = LLMSettings(
        model=section.model,
        timeout_seconds=section.timeout_seconds,
        max_retries=section.max_retries,
        max_retry_wait_seconds=section.max_retry_wait_seconds,
        max_output_tokens=section.max_output_tokens,
        context_messages=section.context_messages,
        response_format=section.response_format,
        max_tokens_field=max_tokens_field(base_url),
        breaker_failures=section.breaker_failures,
        breaker_reset_seconds=section.breaker_reset_seconds,
    )
    client = make_client(api_key, base_url, section.timeout_seconds)
    return OpenAIScorer(client, settings, fallback=fallback)


def scorer_settings(config: Config) -> tuple:
    """What build_scorer reads from the config: a reload that changes it needs a new scorer
    (the cascade also reads the thresholds)."""
    return config.scoring, config.thresholds if config.scoring.backend == "cascade" else None


def build_scorer(config: Config, env: Environment, *, local: Scorer | None = None) -> Scorer:
    """The scorer for config.scoring.backend. `local` replaces the built-in LocalScorer."""
    backend = config.scoring.backend
    if backend == "local":
        return local if local is not None else _local_scorer()
    if backend == "openai":
        # Build the client first so a missing key is reported before loading the local model.
        llm = build_openai_scorer(config, env, fallback=None)
        llm.fallback = local if local is not None else _local_scorer()
        return llm
    if backend == "cascade":
        from ticketpulse.sentiment.cascade import CascadeScorer

        llm = build_openai_scorer(config, env, fallback=None)
        local = local if local is not None else _local_scorer()
        llm.fallback = local
        return CascadeScorer(
            local,
            llm,
            thresholds=config.thresholds,
            band=config.scoring.cascade.band,
        )
    raise ConfigError(f"scoring.backend: unknown backend {backend!r}")
