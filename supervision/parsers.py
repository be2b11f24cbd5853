"""The API's JSON parser: DRF's, refusing JSON nested deeper than any request needs."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Arrays and objects within each other: an OCPP payload (a charging profile) needs some six.
# Deeper, the decoder and every recursive walk after it (validation, redaction, saving) could
# run out of stack: a RecursionError, a 500.
MAX_JSON_DEPTH = 64


def nested_deeper_than(data, limit: int) -> bool:
    """Whether ``data`` holds arrays or objects more than ``limit`` levels deep (walked without
    recursion)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(
            _("The JSON is nested deeper than %(depth)d levels.") % {"depth": MAX_JSON_DEPTH}
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if nested_deeper_than(data, MAX_JSON_DEPTH):
            raise too_deep
        return data
