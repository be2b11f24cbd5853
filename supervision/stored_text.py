"""Sentences written without a reader (the gateway's, stored in English: a station's Autocharge
and local-list details, why a command failed) and shown to one, in their language. The writer
marks them: ``gettext_noop`` for a fixed sentence, a pattern below for one with values; the
page translates them as it shows them. Any other text shows as stored."""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

NO_PROFILE = gettext_noop("No profile for vendor %(vendor)s, model %(model)s.")
READING_CONFIGURATION = gettext_noop("Profile %(profile)s: reading the configuration.")
WAITING_FOR_CONNECTION = gettext_noop("Profile %(profile)s: waiting for the station's connection.")
NOT_CONNECTED = gettext_noop("%(station)s is not connected.")
PATTERNS = [NO_PROFILE, READING_CONFIGURATION, WAITING_FOR_CONNECTION, NOT_CONNECTED]


def _regex(msgid: str) -> re.Pattern:
    """The stored sentence ``msgid`` gives, each placeholder captured."""
    pieces = re.split(r"%\((\w+)\)s", msgid)
    return re.compile(
        "".join(
            re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>.*?)"
            for index, piece in enumerate(pieces)
        )
        + r"\Z",
        re.S,
    )


_MATCHERS = [(msgid, _regex(msgid)) for msgid in PATTERNS]


def stored_text_display(text: str | None) -> str:
    """``text`` in the current language when it is a marked sentence, else as stored."""
    if not text:
        return ""
    for msgid, regex in _MATCHERS:
        match = regex.match(text)
        if match:
            return gettext(msgid) % match.groupdict()
    return gettext(text)
