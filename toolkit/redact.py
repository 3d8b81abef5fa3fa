"""Keep secrets out of output: masking for display and scrubbing for text.

Consumer keys are identifiers, shown masked (first and last four characters). Consumer secrets,
passwords, access/refresh tokens, private keys and certificate bodies are never shown at all.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

MASK = "****"

# a secret's name, then its value; an error code that merely ends in a secret's name (INVALID_SESSION_ID:
# "Session expired or invalid") names no value, so the word after it stays
_SECRET_WORDS = re.compile(
    r"(?i)(?<!INVALID_)(?<!EXPIRED_)(access_token|refresh_token|client_secret|consumer_?secret|"
    r"password|sessionId|session_id|Authorization:\s*Bearer|assertion)([\"'=:>\s]+)([^\s\"'<&,}]+)"
)
_SF_TOKEN = re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}")
_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.S)


def mask_key(value: str | None) -> str | None:
    """Show a consumer key as its first and last four characters.

    >>> mask_key("3MVG9abcdefghijklmnopqrstuvwxyz1234")
    '3MVG…1234'
    """
    if not value:
        return value
    if len(value) <= 10:
        return MASK
    return f"{value[:4]}…{value[-4:]}"


def redact(text: str, secrets: Iterable[str] = (), *, keywords: bool = True) -> str:
    """Remove known secret values and anything shaped like a token, password or key from ``text``.

    ``keywords=False`` keeps the words after ``password``, ``access_token``... (prose such as a report's
    "Username-password flow in use"); known values, tokens and PEM blocks are still removed.

    >>> redact("access_token=00Dxx0000001gPL!AQ4AQFo.secretpart.abcdefghijkl done")
    'access_token=**** done'
    >>> redact("Username-password flow in use", keywords=False)
    'Username-password flow in use'
    >>> redact("INVALID_SESSION_ID: Session expired or invalid")
    'INVALID_SESSION_ID: Session expired or invalid'
    """
    known = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
    if len(known) > _MANY:  # many orgs' secrets: one pass over the text, not one per secret
        text = _one_pass(tuple(known)).sub(MASK, text)
    else:
        for secret in known:
            text = text.replace(secret, MASK)
    text = _PEM.sub(MASK, text)
    text = _SF_TOKEN.sub(MASK, text)
    if not keywords:
        return text
    return _SECRET_WORDS.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


_MANY = 64  # secrets above which they are found in one pass (a fleet's thousands of consumer keys)
_PREFIX = 12  # characters of each secret the one-pass regex holds (the rest is checked where one matches)


class _OnePass:
    """Every secret found in one pass: a regex (a trie of the secrets' first :data:`_PREFIX` characters,
    so a match costs that length, not the number of secrets; small enough to compile fast) finds where one
    may start, and there the longest secret that is really there is replaced.

    >>> finder = _one_pass(("abcd", "abcdef", "xyz1", "abcdefghijklmnop"))
    >>> finder.sub("*", "abcdefg abcd xyz12 abcdefghijklmnopq abcdefghijklmno")
    '*g * *2 *q *ghijklmno'
    """

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.by_prefix: dict[str, list[str]] = {}
        for secret in sorted(secrets, key=len, reverse=True):
            self.by_prefix.setdefault(secret[:_PREFIX], []).append(secret)
        self.lengths = sorted({len(p) for p in self.by_prefix}, reverse=True)
        self.regex = re.compile(_trie(self.by_prefix))

    def sub(self, mask: str, text: str) -> str:
        out, done, pos = [], 0, 0
        while (m := self.regex.search(text, pos)) is not None:
            at = m.start()
            found = next(
                (s for n in self.lengths for s in self.by_prefix.get(text[at : at + n], ())
                 if text.startswith(s, at)),
                None,
            )
            if found is None:
                pos = at + 1
                continue
            out += [text[done:at], mask]
            done = pos = at + len(found)
        return "".join([*out, text[done:]]) if out else text


def _trie(words: Iterable[str]) -> str:
    """A regex matching any of ``words`` (the longest where several start alike), as a trie."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = []
        for ch in sorted(k for k in node if k):
            child, text = node[ch], ch
            while len(child) == 1 and "" not in child:  # a run without a branch: one literal
                ((ch2, child),) = child.items()
                text += ch2
            branches.append(re.escape(text) + pattern(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)


@functools.lru_cache(maxsize=4)
def _one_pass(secrets: tuple[str, ...]) -> _OnePass:
    return _OnePass(secrets)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs every record; installed on the ``toolkit`` logger."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = ()
        return True


_filter = RedactingFilter()
logging.getLogger("toolkit").addFilter(_filter)


def register_secret(value: str | None) -> None:
    """Remember a secret so that log records mentioning it are scrubbed."""
    if value:
        _filter.secrets.add(value)
