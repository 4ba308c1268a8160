"""Turn a helpdesk comment into the customer's own words.

HTML becomes text, quoted earlier replies and signatures are dropped, whitespace is tidied.
Scorers see only what the customer wrote in this message.

Every step is linear in the length of the comment: a webhook body may be up to
`[webhooks] max_body_bytes` of markup, and cleaning runs in the web request (for the comment's
key) as well as in the worker.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

# The start of a tag; the text is markup when a ">" follows one. (Not one regex with `[^>]*>`:
# that backtracks quadratically over a long run of "<a" without any ">".)
_TAG_START = re.compile(r"<\s*+/?\s*+[a-zA-Z]")
# Elements that start a new line of text (before and after them).
_BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "hr", "ul", "ol", "table",
})
# Elements without content or end tag: never opened, so never waited for.
_VOID_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
})
# Elements whose content is never the customer's words.
_DROPPED_TAGS = frozenset({"blockquote", "script", "style"})
# Mail clients and helpdesks mark the quoted earlier conversation with one of these classes.
_QUOTE_CLASSES = frozenset({"gmail_quote", "zendesk_quote", "freshdesk_quote", "quoted-text"})

# A line that opens the quoted earlier conversation: everything from it on is dropped.
_ON_WROTE = re.compile(r"^\s*On .{3,200}(wrote|écrit|schrieb)\s*:?\s*$", re.IGNORECASE)
# Zendesk's separator in rendered comment threads (46 dashes); not a customer's "-----" between
# two parts of the message. Also what webhooks/zendesk.py strips before a trigger's comment.
ZENDESK_SEPARATOR = r"-{20,}"
_QUOTE_HEADERS = [
    _ON_WROTE,
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}", re.IGNORECASE),
    # The mobile footer is a line of its own ("Sent from my Samsung Galaxy smartphone."), not a
    # sentence that happens to start so ("Sent from my office, because your app is down. Fix it!").
    re.compile(r"^\s*Sent from my [^.!?\n]{1,100}[.!]?\s*$", re.IGNORECASE),
    re.compile(r"^\s*#{2,}\s*-?\s*Please type your reply above this line", re.IGNORECASE),
    # Zendesk's mail delimiter in the requester's language: "##- Bitte geben Sie Ihre Antwort über
    # dieser Zeile ein. -##", "##- Veuillez écrire votre réponse au-dessus de cette ligne -##".
    re.compile(r"^\s*#{2,}\s*-.{1,200}-\s*#{2,}\s*$"),
    re.compile(rf"^\s*{ZENDESK_SEPARATOR}\s*$"),
]
# The "From:" line of a quoted message's header: it ends in the sender's address, or the header's
# next field follows it. Not a sentence that starts "From: my side everything is configured".
_FROM_LINE = re.compile(r"^\s*From:\s.+$", re.IGNORECASE)
_ENDS_IN_ADDRESS = re.compile(r"@[\w-]+(\.[\w-]+)+\s*[>\]]?\s*$")
_HEADER_FIELD = re.compile(r"^\s*(Sent|Date|To|Cc|Subject):\s", re.IGNORECASE)
# A line that opens a signature block.
_SIGNATURE = re.compile(
    r"^\s*(--\s*|—\s*|(best|kind|warm)?\s*regards,?|thanks( again)?,?|thank you,?|cheers,?|sincerely,?|best,?)\s*$",
    re.IGNORECASE,
)
# A quoted line of a plain-text reply ("> ...", ">> ..."), not an angry face at its start (">:(").
_QUOTED_LINE = re.compile(r"^\s*>(?![:;=])")
# A postscript below the signature: "P.S. ...", "P.S.: ...", "PS: ...".
_POSTSCRIPT = re.compile(r"^\s*(P\.\s?S\.?|PS:)", re.IGNORECASE)
# Letters in compatibility forms: fullwidth (ＳＴＩＬＬ, a CJK keyboard's full-width mode), the
# "fancy text" of mathematical alphanumerics (𝐒𝐓𝐈𝐋𝐋 𝐛𝐫𝐨𝐤𝐞𝐧) and ligatures (ﬁxed, from a PDF):
# folded to the letters they are (NFKC), so that the scorer reads the words. Nothing else changes.
_COMPATIBILITY_LETTERS = re.compile("[\u3000\uff01-\uff5e\ufb00-\ufb06\U0001d400-\U0001d7ff]+")
_SPACES = re.compile(r"[ \t\u00a0]+")
# A text of nothing a reader sees: whitespace, control characters and Unicode's default-ignorable
# code points (zero-width space, joiners, word joiner, byte order mark, soft hyphen, bidi marks,
# variation selectors, Hangul fillers, tags). `str.strip` keeps most of them.
_NOTHING_VISIBLE = re.compile(
    "[\\s\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]*"
)
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    """The text of an HTML fragment, one pass, without building a tree.

    Block elements put their content on lines of its own. The content of a blockquote, of an
    element with a quote class, and of script/style is dropped, however deeply nested. Unclosed
    and misnested tags are tolerated: an end tag closes the nearest open element of its name (and
    whatever was left open inside it); an end tag with no open element of its name is ignored.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        # The open elements: (tag, whether it drops its content).
        self._open: list[tuple[str, bool]] = []
        self._open_count: dict[str, int] = {}  # tag -> how many are open, for O(1) stray end tags
        self._dropping = 0  # how many open elements drop their content

    @staticmethod
    def _drops(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in _DROPPED_TAGS:
            return True
        for name, value in attrs:
            if name == "class" and value and not _QUOTE_CLASSES.isdisjoint(value.split()):
                return True
        return False

    def _newline(self, tag: str) -> None:
        if tag in _BLOCK_TAGS and not self._dropping:
            self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._newline(tag)
        if tag in _VOID_TAGS:
            self._newline(tag)  # a <br> is a line break on both sides, like an empty block
            return
        drops = self._drops(tag, attrs)
        self._open.append((tag, drops))
        self._open_count[tag] = self._open_count.get(tag, 0) + 1
        self._dropping += drops

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<br/>`, `<div/>`: nothing inside, nothing to close later.
        self._newline(tag)
        self._newline(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_TAGS:
            return  # `</br>`: its start tag (if any) made the break already
        if not self._open_count.get(tag):
            return  # a stray end tag
        while self._open:
            open_tag, drops = self._open.pop()
            self._open_count[open_tag] -= 1
            self._dropping -= drops
            if open_tag == tag:
                break
        self._newline(tag)

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def _complete_tags_only(value: str) -> str:
    """The markup with comments, declarations and processing instructions removed, and every "<"
    that does not open a tag closed before the next "<" escaped as text.

    Python's HTMLParser rescans to the end of the input for each incomplete construct (a "<a "
    or "<!--" that never closes), which is quadratic (gh-135462, fixed only in newer Pythons).
    After this pass every "<" it sees opens a tag whose ">" comes before the next "<". One pass:
    each search starts where the previous one of its kind stopped.
    """
    out: list[str] = []
    n = len(value)
    i = 0
    next_gt = -1  # the first ">" at or after the current "<" + 1; n when there is none
    comments_close = True  # is there a "-->" after the current position?
    while i < n:
        lt = value.find("<", i)
        if lt < 0:
            out.append(value[i:])
            break
        out.append(value[i:lt])
        if value.startswith("<!--", lt):
            end = value.find("-->", lt + 4) if comments_close else -1
            if end >= 0:
                i = end + 3  # a comment: never the customer's words
                continue
            comments_close = False
        if next_gt <= lt:
            next_gt = value.find(">", lt + 1)
            if next_gt < 0:
                next_gt = n
        next_lt = value.find("<", lt + 1, next_gt)
        if next_gt == n or next_lt >= 0 or not comments_close and value.startswith("<!--", lt):
            out.append("&lt;")  # not a tag: the text "<"
            i = lt + 1
            continue
        if value[lt + 1 : lt + 2] not in ("!", "?"):
            out.append(value[lt : next_gt + 1])  # <!DOCTYPE>, <![CDATA[..]]>, <?xml ..?>: dropped
        i = next_gt + 1
    return "".join(out)


def html_to_text(value: str) -> str:
    start = _TAG_START.search(value)
    if start is None or value.find(">", start.end()) == -1:
        return html.unescape(value)
    parser = _TextExtractor()
    parser.feed(_complete_tags_only(value))
    parser.close()
    return "".join(parser.parts)


def _opens_quoted_header(lines: list[str], index: int) -> bool:
    line = lines[index]
    if line.lstrip().startswith("On ") and index + 1 < len(lines):
        # Plain-text mail wraps a long "On <date> <name> <address> wrote:" onto a second line.
        return _ON_WROTE.match(f"{line} {lines[index + 1]}") is not None
    if not _FROM_LINE.match(line):
        return False
    if _ENDS_IN_ADDRESS.search(line):
        return True
    following = next((later for later in lines[index + 1 : index + 3] if later.strip()), "")
    return _HEADER_FIELD.match(following) is not None


def strip_quotes_and_signature(text: str) -> str:
    kept: list[str] = []
    in_signature = False
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if _QUOTED_LINE.match(line):
            continue
        if any(pattern.match(line) for pattern in _QUOTE_HEADERS) or _opens_quoted_header(lines, index):
            break
        if in_signature and not _POSTSCRIPT.match(line):
            continue
        in_signature = False
        if _SIGNATURE.match(line) and kept:
            # "Thanks," alone on a line ends the message; the name below it is a signature...
            in_signature = True
            continue
        kept.append(line)  # ... and a P.S. below the signature is the customer's again
    return "\n".join(kept)


def plain_letters(text: str) -> str:
    """Fullwidth, "fancy" and ligature letters as the letters they are (_COMPATIBILITY_LETTERS)."""
    if text.isascii():
        return text
    return _COMPATIBILITY_LETTERS.sub(lambda found: unicodedata.normalize("NFKC", found.group()), text)


def clean_text(value: str | None) -> str:
    """The customer's words from a raw (HTML or plain) comment body."""
    if not value:
        return ""
    text = html_to_text(value).replace("\r\n", "\n").replace("\r", "\n")
    text = strip_quotes_and_signature(plain_letters(text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    if _NOTHING_VISIBLE.fullmatch(text):
        return ""  # only zero-width or other invisible characters: no words, an empty comment
    return _BLANK_LINES.sub("\n\n", text)


_UNPRINTABLE = frozenset({"Cc", "Cs"})  # control characters (NUL, ESC, ...) and lone surrogates


def one_line(text: str) -> str:
    """Text as one line that can be stored and shown: line breaks and tabs as one space, other
    control characters and lone surrogates dropped (PostgreSQL text cannot hold a NUL, nor UTF-8
    a lone surrogate; an ESC would drive the terminal that prints it, a line break would start a
    line of an internal note that the service did not write)."""
    if not text.isprintable():
        text = "".join(" " if ch.isspace() else ch for ch in text
                       if ch.isspace() or unicodedata.category(ch) not in _UNPRINTABLE)
    return " ".join(text.split())


def squash_whitespace(value: str) -> str:
    """Every run of whitespace as one space, ends trimmed: for comparing texts, not showing them."""
    return " ".join(value.split())
