"""The yardstick for bench/ingest.py: a bare Flask view that parses the same JSON and answers 202."""

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/zendesk")
    def zendesk():
        payload = request.get_json(force=True)
        return jsonify(status="accepted", id=payload.get("id")), 202

    return app
