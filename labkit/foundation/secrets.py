"""The one rendering of a database URL for messages: its password hidden.

A storage URL such as ``postgresql+psycopg2://labuser:S3cret@dbhost/labkit`` carries a working
password. Every message, warning and record that names such a URL shows it as `hide_password`
renders it (``postgresql+psycopg2://labuser:***@dbhost/labkit``), and `hide_secrets` removes the
password from any other text (a driver's own error message may quote it). The rule errs on the
safe side: everything between the user name's ``:`` and the *last* ``@`` before the host is
hidden (a raw ``@`` or ``/`` in a password is hidden with it), and so are the values of
``password=`` query parameters.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ["HIDDEN", "hide_password", "hide_secrets", "url_password"]

#: What a password is shown as.
HIDDEN = "***"

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][\w+.-]*://)(?P<rest>.*)$", re.DOTALL)
_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|passwd|pwd|pass)=)[^&#]*")


def _split(url: str) -> tuple[str, str, str, str] | None:
    """(scheme://, user, password, @rest) of a URL with a password, else None."""
    match = _SCHEME.match(url)
    if match is None:
        return None
    rest = match["rest"]
    at = rest.rfind("@")
    if at < 0:
        return None
    userinfo = rest[:at]
    colon = userinfo.find(":")
    if colon < 0 or "/" in userinfo[:colon]:  # no password, or the "@" is in a path (sqlite:///a@b.db)
        return None
    return match["scheme"], userinfo[:colon], userinfo[colon + 1:], rest[at:]


def url_password(url: str) -> str | None:
    """The password written in ``url`` (as written, percent-escapes kept), or None."""
    parts = _split(str(url))
    return parts[2] if parts is not None and parts[2] else None


def hide_password(url: str) -> str:
    """``url`` with its password (and any ``password=`` query value) shown as ``***``."""
    url = str(url)
    parts = _split(url)
    if parts is not None and parts[2]:
        scheme, user, _, rest = parts
        url = f"{scheme}{user}:{HIDDEN}{rest}"
    return _QUERY_SECRET.sub(lambda m: m.group(1) + HIDDEN, url)


def hide_secrets(text: str, url: str | None) -> str:
    """``text`` with every appearance of ``url`` rendered by `hide_password` and its password (as written and
    percent-decoded) replaced by ``***``, wherever it stands (a driver's message may quote it)."""
    text = str(text)
    if not url:
        return text
    url = str(url)
    text = text.replace(url, hide_password(url))
    secrets = {url_password(url)} | {m.group(0).split("=", 1)[1] for m in _QUERY_SECRET.finditer(url)}
    for secret in sorted({s for s in secrets if s} | {unquote(s) for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= 3:  # a shorter one would blank out ordinary words; the URL itself is hidden above
            text = text.replace(secret, HIDDEN)
    return text
