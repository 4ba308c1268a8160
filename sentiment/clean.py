"""Turn a helpdesk comment into the customer's own words.

HTML becomes text, quoted earlier replies and signatures are dropped, whitespace is tidied.
Scorers see only what the customer wrote in this message.
"""

from __future__ import annotations

import html
import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")

# A line that opens the quoted earlier conversation: everything from it on is dropped.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On .{3,200}(wrote|écrit|schrieb)\s*:?\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*From:\s.+$", re.IGNORECASE),
    re.compile(r"^\s*Sent from my \w+", re.IGNORECASE),
    re.compile(r"^\s*#{2,}\s*-?\s*Please type your reply above this line", re.IGNORECASE),
    re.compile(r"^\s*-{5,}\s*$"),  # Zendesk's separator in rendered comment threads
]
# A line that opens a signature block.
_SIGNATURE = re.compile(
    r"^\s*(--\s*|—\s*|(best|kind|warm)?\s*regards,?|thanks( again)?,?|thank you,?|cheers,?|sincerely,?|best,?)\s*$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(value: str) -> str:
    if not _TAG.search(value):
        return html.unescape(value)
    soup = BeautifulSoup(value, "html.parser")
    for quote in soup.find_all("blockquote"):
        quote.decompose()
    for quoted in soup.select(".gmail_quote, .zendesk_quote, .freshdesk_quote, .quoted-text"):
        quoted.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text()


def strip_quotes_and_signature(text: str) -> str:
    kept: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            continue
        if any(pattern.match(line) for pattern in _QUOTE_HEADERS):
            break
        if _SIGNATURE.match(line) and kept:
            # "Thanks," alone on a line ends the message; the name below it is a signature.
            break
        kept.append(line)
    return "\n".join(kept)


def clean_text(value: str | None) -> str:
    """The customer's words from a raw (HTML or plain) comment body."""
    if not value:
        return ""
    text = html_to_text(value).replace("\r\n", "\n").replace("\r", "\n")
    text = strip_quotes_and_signature(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    return _BLANK_LINES.sub("\n\n", text)
