"""The decision measures of `ticketpulse eval --conversations`, through the full pipeline.

    .venv/bin/python bench/replay_webhooks.py ../shared/data/support_conversations/dev.json \
        ../shared/data/support_conversations/dev.labels.jsonl

Starts `ticketpulse serve` on the embedded default (SQLite, default config, offline scorer) and a
fake Zendesk on loopback (tests/fakes/zendesk.py: real request shapes, auth, tag semantics), then
sends every turn of every conversation as a signed Zendesk comment webhook: customer turns as
the requester, agent turns as staff, each with the turn's real time, one ticket per conversation,
in time order within a ticket. When the backlog is worked off it reads what the helpdesk saw (the
severity tags ticketpulse wrote on each ticket) and what the service stored (the frustration of
every customer comment), and prints the same table, matrix and message measures as
`ticketpulse eval --conversations` with the same labels, so the two can be compared.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_harness import pending, serving, signed  # noqa: E402
from tests.fakes.server import LiveServer  # noqa: E402
from tests.fakes.zendesk import FakeZendesk  # noqa: E402
from ticketpulse.config import SEVERITIES, Tags  # noqa: E402
from ticketpulse.escalation.conversation_eval import (  # noqa: E402
    AGENT, CUSTOMER, Replayed, format_report, measures, read_conversations,
)
from ticketpulse.escalation.tracker import ScorePoint  # noqa: E402
from ticketpulse.models import Comment, Score, Ticket  # noqa: E402

import logging  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake API logs every request

FIRST_TICKET = 50_000


def comment_id(ticket: int, turn: int) -> str:
    return str(ticket * 1000 + turn)


def send_all(url: str, conversations, senders: int = 4) -> int:
    """Each conversation's turns in time order (one sender per conversation at a time)."""
    sent = [0]
    errors: list[str] = []
    lock = threading.Lock()

    def send(offset: int) -> None:
        session = requests.Session()
        for conversation in conversations[offset::senders]:
            ticket = FIRST_TICKET + conversation.index
            for turn in sorted(conversation.turns, key=lambda t: (t.at, t.index)):
                if turn.role not in (CUSTOMER, AGENT):
                    continue
                body, headers = signed(ticket, comment_id(ticket, turn.index), turn.text, at=turn.at,
                                       staff=turn.role == AGENT)
                response = session.post(f"{url}/webhooks/zendesk", data=body, headers=headers, timeout=60)
                if response.status_code != 202:
                    errors.append(f"webhook for conversation {conversation.index} turn {turn.index}: "
                                  f"{response.status_code} {response.text[:300]}")
                    return
                with lock:
                    sent[0] += 1

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(errors[0])
    return sent[0]


def helpdesk_severity(fake: FakeZendesk, ticket: int, tags: Tags) -> str | None:
    """The highest severity tag ticketpulse wrote on the ticket."""
    written = set(fake.tickets[str(ticket)]["tags"])
    found = [s for s in SEVERITIES if tags.severity_tag(s) in written]
    return found[-1] if found else None


def stored_scores(database_url: str) -> dict[tuple[int, int], Score]:
    """(ticket number, turn index) -> the stored score of that customer comment."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Ticket.external_id, Comment.comment_key, Score.score, Score.frustration, Score.urgency,
                   Score.label, Score.unsupported_language, Comment.commented_at)
            .join(Comment, Comment.ticket_id == Ticket.id).join(Score, Score.comment_id == Comment.id))
        out = {}
        for row in rows:
            out[(int(row.external_id), int(row.comment_key.removeprefix("id:")) % 1000)] = row
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("conversations", type=Path)
    parser.add_argument("labels", type=Path)
    parser.add_argument("--port", type=int, default=0, help="serve's port (default: a free one)")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    args = parser.parse_args()
    conversations = read_conversations(args.conversations, args.labels)
    fake = FakeZendesk()
    for conversation in conversations:
        fake.add_ticket(str(FIRST_TICKET + conversation.index))
    with LiveServer(fake.app()) as api, tempfile.TemporaryDirectory() as tmp:
        with serving(Path(tmp), api.url, fake, args.port) as (_serve, url):
            started = time.monotonic()
            sent = send_all(url, conversations)
            while pending(url) and time.monotonic() - started < args.drain_timeout:
                time.sleep(0.5)
            left = pending(url)
            elapsed = time.monotonic() - started
        database_url = f"sqlite:///{Path(tmp) / 'serve.db'}"
        scores = stored_scores(database_url)

    tags = Tags()
    replayed = []
    for conversation in conversations:
        ticket = FIRST_TICKET + conversation.index
        result = Replayed(conversation, severity=helpdesk_severity(fake, ticket, tags))
        for turn in conversation.customer_turns:
            row = scores.get((ticket, turn.index))
            if row is None:
                continue  # an empty message after cleaning: the service does not score it
            if row.unsupported_language:
                result.unsupported.append((turn, row.unsupported_language))
                continue
            result.points.append((turn, ScorePoint(row.commented_at, row.score, row.frustration, row.urgency,
                                                   row.label, ())))
        replayed.append(result)
    print(f"through `ticketpulse serve`: {sent} webhooks ({len(conversations)} tickets) sent and worked off "
          f"in {elapsed:.1f} s; {left} item(s) still pending; severities read from the fake Zendesk's tags")
    print(format_report(measures(replayed)))


if __name__ == "__main__":
    main()
