from sentiment.clean import clean_text
from webhooks.zendesk import strip_rendered_header


def test_html_becomes_text_and_quotes_are_dropped():
    html = "<div>Third time asking.<br>This is <b>unacceptable</b>.</div><blockquote>Earlier reply</blockquote>"
    assert clean_text(html) == "Third time asking.\n\nThis is unacceptable."


def test_quoted_email_thread_and_signature_are_dropped():
    body = "Still broken!\n\nThanks,\nDana Cole\nAcme Corp\n\nOn Mon, Mar 3, 2025 at 9:00 AM Support <s@x.com> wrote:\n> How can we help?"
    assert clean_text(body) == "Still broken!"


def test_entities_are_unescaped_and_whitespace_tidied():
    assert clean_text("I &amp; my team   can&#39;t   log in") == "I & my team can't log in"


def test_zendesk_rendered_comment_header_is_removed():
    rendered = "----------------------------------------------\n\nDana Cole, Mar 5, 2025, 17:40\n\nStill waiting."
    assert strip_rendered_header(rendered) == "Still waiting."
    assert strip_rendered_header("Plain message") == "Plain message"
