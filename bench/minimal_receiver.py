"""A second yardstick for bench/ingest.py: the least a durable webhook receiver can do.

The bare Flask view parses the JSON and stores nothing; this one also inserts the event, one
prepared statement in autocommit (PostgreSQL) or one short write transaction (SQLite, WAL and
synchronous=NORMAL as ticketpulse runs it), before it answers 202: no signature, no parsing into
a comment, no ticket row, no logging. Its ratio to the bare view is about the most any receiver
that commits each webhook can reach on the machine.
"""

import json
import os
import sqlite3
import threading

from flask import Flask, jsonify, request

_INSERT = "INSERT INTO minimal_events (event_id, body) VALUES ({0}, {0}) ON CONFLICT DO NOTHING RETURNING id"
_local = threading.local()


def _connect():
    dsn = os.environ["MINIMAL_RECEIVER_DSN"]
    if dsn.startswith("sqlite:"):
        connection = sqlite3.connect(dsn.removeprefix("sqlite:"), isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("CREATE TABLE IF NOT EXISTS minimal_events (id INTEGER PRIMARY KEY, event_id TEXT UNIQUE, body TEXT)")
        return connection, _INSERT.format("?")
    import psycopg

    connection = psycopg.connect(dsn, autocommit=True, prepare_threshold=0)
    connection.execute("CREATE TABLE IF NOT EXISTS minimal_events (id bigserial PRIMARY KEY, event_id text UNIQUE, body jsonb)")
    return connection, _INSERT.format("%s")


def _connection():
    if getattr(_local, "pid", None) != os.getpid():  # one per process (gunicorn forks after create_app)
        _local.connection, _local.sql = _connect()
        _local.pid = os.getpid()
    return _local.connection, _local.sql


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/zendesk")
    def zendesk():
        payload = request.get_json(force=True)
        connection, sql = _connection()
        # fetchall: SQLite commits the statement only once its rows are read to the end.
        rows = connection.execute(sql, (payload.get("id"), json.dumps(payload))).fetchall()
        return jsonify(status="accepted", id=rows[0][0] if rows else None), 202

    return app
