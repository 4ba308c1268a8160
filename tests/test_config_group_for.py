"""One rule for the group an escalation moves a ticket to: `Config.group_for(helpdesk, severity)`,
used by the pipeline when it decides and by `jobs retry` when it sends a failed one again."""

from __future__ import annotations

from ticketpulse.config import Config


def test_a_severitys_own_group_else_the_senior_group_else_none():
    config = Config.model_validate({
        "zendesk": {"senior_group_id": 360001234567, "groups": {"critical": 360007777777}},
        "freshdesk": {"groups": {"high": 43000777000}},
    })

    assert config.group_for("zendesk", "critical") == 360007777777
    assert config.group_for("zendesk", "medium") == 360001234567
    assert config.group_for("freshdesk", "high") == 43000777000
    assert config.group_for("freshdesk", "low") is None  # the ticket keeps its group
    assert config.group_for("api", "critical") is None  # conversations have no helpdesk group
