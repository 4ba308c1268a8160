"""Wiring: config + environment → database, scorer, helpdesk clients, pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ticketpulse.escalation.helpdesk import Helpdesk
from ticketpulse.escalation.pipeline import Pipeline
from ticketpulse.integrations import build_helpdesks
from ticketpulse.escalation.worker import Worker
from ticketpulse.models import make_engine, make_session_factory
from ticketpulse.sentiment import Scorer
from ticketpulse.config import Config, Environment


@dataclass
class Runtime:
    config: Config
    env: Environment
    engine: Engine
    sessions: sessionmaker[Session]
    scorer: Scorer
    helpdesks: dict[str, Helpdesk]

    @property
    def pipeline(self) -> Pipeline:
        return Pipeline(self.sessions, self.scorer, self.helpdesks, self.config)

    @property
    def worker(self) -> Worker:
        return Worker(self.pipeline)


def build_runtime(
    config: Config,
    env: Environment,
    *,
    engine: Engine | None = None,
    scorer: Scorer | None = None,
    helpdesks: dict[str, Helpdesk] | None = None,
) -> Runtime:
    from ticketpulse.sentiment.factory import build_scorer

    engine = engine or make_engine(env.database_url)
    return Runtime(
        config=config,
        env=env,
        engine=engine,
        sessions=make_session_factory(engine),
        scorer=scorer or build_scorer(config, env),
        helpdesks=helpdesks if helpdesks is not None else build_helpdesks(config, env, new_policy=_one_try_per_call),
    )


def follow_config(runtime: Runtime, worker: Worker, live) -> None:
    """Give a reloaded config (ticketpulse.reload.LiveConfig) to the running worker: the next
    message is decided under it. A new scorer is built when its settings changed."""
    from ticketpulse.sentiment.factory import build_scorer, scorer_settings

    def take(old: Config, new: Config) -> None:
        if scorer_settings(new) != scorer_settings(old):
            runtime.scorer = worker.pipeline.scorer = build_scorer(new, runtime.env)
        runtime.config = worker.pipeline.config = new
        worker.settings = new.worker

    live.subscribe(take)


def _one_try_per_call():
    """The worker's HTTP policy: one try per call, never a sleep inside a lease. A failed try is
    counted on the escalation and rescheduled with backoff (or the server's Retry-After)."""
    from ticketpulse.integrations.http import HttpPolicy

    return HttpPolicy(attempts=1)
