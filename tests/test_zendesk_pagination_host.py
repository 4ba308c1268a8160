"""Zendesk's list endpoints page by a `next_page` URL taken from the answer's body: the client
follows its path and query on the configured account only, so the API token never goes to a
host that a body names."""

from __future__ import annotations

from ticketpulse.integrations.zendesk import ZendeskClient


class RecordingPolicy:
    """Answers two pages of groups; records every URL asked for."""

    def __init__(self, next_page: str) -> None:
        self.urls: list[str] = []
        self.next_page = next_page

    def request(self, method, url, **kwargs):
        self.urls.append(url)
        if len(self.urls) == 1:
            return {"groups": [{"id": 1}], "next_page": self.next_page}
        return {"groups": [{"id": 2}], "next_page": None}


def test_a_next_page_on_another_host_is_followed_on_the_configured_account():
    policy = RecordingPolicy("https://attacker.example/api/v2/groups.json?page=2&per_page=100")
    client = ZendeskClient("https://acme.zendesk.com", "ops@acme.test", "token", policy)

    groups = client.list_groups()

    assert [group["id"] for group in groups] == [1, 2]
    assert policy.urls == ["https://acme.zendesk.com/api/v2/groups",
                           "https://acme.zendesk.com/api/v2/groups.json?page=2&per_page=100"]
