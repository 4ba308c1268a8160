"""Dependencies point one way: HTTP and API clients -> domain -> models; config, metrics, logging
and the retry policy are leaves. Every import of ours is checked, lazy ones inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The folder each subpackage of `ticketpulse` is installed from (pyproject's package-dir).
FOLDERS = {
    "ticketpulse": ROOT / "ticketpulse",
    "ticketpulse.webhooks": ROOT / "webhooks",
    "ticketpulse.integrations": ROOT / "integrations",
    "ticketpulse.escalation": ROOT / "escalation",
    "ticketpulse.sentiment": ROOT / "sentiment",
    "ticketpulse.models": ROOT / "models",
    "ticketpulse.migrations": ROOT / "migrations",
}
# reload.py is the config file followed while running; it leans on config.py alone.
LEAVES = {"ticketpulse.config", "ticketpulse.reload", "ticketpulse.logs", "ticketpulse.metrics", "ticketpulse.retry",
          "ticketpulse.startup"}
# What each layer may import, besides itself and the leaves.
ALLOWED = {
    "ticketpulse.cli": "*",  # the wiring at the top: anything
    "ticketpulse.runtime": "*",
    "ticketpulse.check": "*",  # check-config: builds what serve builds
    # /healthz reads the schema's revision against the migrations' head (webhooks/health.py).
    "ticketpulse.webhooks": {"ticketpulse.escalation", "ticketpulse.sentiment", "ticketpulse.models",
                             "ticketpulse.migrations"},
    "ticketpulse.integrations": {"ticketpulse.escalation", "ticketpulse.sentiment", "ticketpulse.models"},
    "ticketpulse.escalation": {"ticketpulse.sentiment", "ticketpulse.models"},
    "ticketpulse.sentiment": {"ticketpulse.models"},
    "ticketpulse.models": set(),
    "ticketpulse.migrations": {"ticketpulse.models"},
    "ticketpulse": set(),  # ticketpulse/__init__.py
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    name = ".".join(parts[:2])
    if name in LEAVES or name in ALLOWED:
        return name
    return parts[0]


def modules():
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder).with_suffix("")
            parts = [part for part in relative.parts if part != "__init__"]
            yield ".".join([package, *parts]), path


def imports_of(module: str, path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.add(f"relative import in {module}")  # we import absolutely: one way to read them
                continue
            target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names if target == "ticketpulse"}
    return {name for name in found if name.split(".")[0] == "ticketpulse" or name.startswith("relative")}


def wrong_imports(module: str, path: Path) -> list[str]:
    layer = layer_of(module)
    allowed = ALLOWED.get(layer, set())
    wrong = []
    for imported in sorted(imports_of(module, path)):
        target = layer_of(imported)
        if target == layer or imported == "ticketpulse":
            continue
        if layer in LEAVES:
            if target not in LEAVES:
                wrong.append(imported)  # a leaf imports nothing of ours but the other leaves
        elif allowed != "*" and target not in LEAVES and target not in allowed:
            wrong.append(imported)
    return wrong


@pytest.mark.parametrize("module, path", list(modules()), ids=lambda value: str(value) if isinstance(value, str) else "")
def test_no_module_imports_a_layer_above_it(module, path):
    assert wrong_imports(module, path) == [], f"{module} imports upward"


def test_the_check_catches_an_upward_import(tmp_path):
    domain = tmp_path / "pipeline.py"
    domain.write_text("from ticketpulse.integrations.zendesk import ZendeskClient\n")
    leaf = tmp_path / "config.py"
    leaf.write_text("def f():\n    from ticketpulse.models import Ticket\n")

    assert wrong_imports("ticketpulse.escalation.pipeline", domain) == ["ticketpulse.integrations.zendesk"]
    assert wrong_imports("ticketpulse.config", leaf) == ["ticketpulse.models"]
