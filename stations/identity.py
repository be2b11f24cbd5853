"""What a station's identity (its charge point id) may be.

The identity is the last segment of the station's WebSocket URL, ``/ocpp/<charge point id>``
(OCPP-J 1.6 §3.1.1, OCPP-J 2.0.1 part 4 §3.1), and the username of its HTTP Basic
authentication (security profiles 1 and 2). Hence printable ASCII without spaces (OCPP 2.0.1's
``identifierString`` is narrower still), no ``/`` (it would end the segment: no route could
reach the station), and no ``:`` (OCPP 2.0.1 forbids it in the identity; RFC 7617 in a Basic
username: the password starts after the first one).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_PRINTABLE = frozenset(chr(code) for code in range(0x21, 0x7F))  # ASCII, without space


def validate_charge_point_id(value: str) -> None:
    """Raise a ValidationError saying what is wrong with ``value`` as a station identity."""
    if "/" in value:
        raise ValidationError(
            _(
                "A charge point id cannot contain “/”: it is the last part of the station's "
                "URL (/ocpp/<id>)."
            ),
            code="slash",
        )
    if ":" in value:
        raise ValidationError(
            _(
                "A charge point id cannot contain “:”: the station sends its id as the "
                "username of its HTTP Basic authentication."
            ),
            code="colon",
        )
    if not set(value) <= _PRINTABLE:
        raise ValidationError(
            _(
                "A charge point id may only contain printable ASCII characters: letters "
                "without accents, digits and punctuation, no spaces (OCPP identity rules)."
            ),
            code="not_printable_ascii",
        )
