"""The training script reproduces its output byte for byte from a fixed seed."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ticketpulse.sentiment.local import LocalScorer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
pytestmark = pytest.mark.skipif(not (DATA / "goemotions").is_dir(), reason=f"no shared data at {DATA}")


def test_same_seed_same_bytes(tmp_path):
    pytest.importorskip("sklearn")
    from ticketpulse.sentiment.train import train

    quiet = lambda _msg: None  # noqa: E731
    a, b, c = tmp_path / "a.json.gz", tmp_path / "b.json.gz", tmp_path / "c.json.gz"
    train(DATA, a, seed=5, limit=1500, log=quiet)
    train(DATA, b, seed=5, limit=1500, log=quiet)
    assert a.read_bytes() == b.read_bytes()
    # a different seed picks a different subset, so the check above could fail
    train(DATA, c, seed=6, limit=1500, log=quiet)
    assert a.read_bytes() != c.read_bytes()
    # and the output is a loadable model
    model = json.loads(gzip.decompress(a.read_bytes()))
    assert model["fit_on"] == "train+dev"  # the final refit, after the choices made on dev
    scorer = LocalScorer(a)
    assert scorer.version.startswith(model["version"] + ".")  # the model file, then the rules
    assert scorer.score("Third time asking. This is unacceptable.").frustration > 0.5


def test_shipped_model_is_a_training_output():
    from ticketpulse.sentiment.local import MODEL_PATH

    raw = MODEL_PATH.read_bytes()
    assert raw[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0: no timestamp in the file
    model = json.loads(gzip.decompress(raw))
    assert model["fit_on"] == "train+dev"
    body = dict(model)
    version = body.pop("version")
    import hashlib

    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert hashlib.sha256(text).hexdigest()[:12] == version
    assert MODEL_PATH.stat().st_size <= 10 * 1024 * 1024
