"""A station's identity (its charge point id) is refused when no station could connect with
it: a "/", a ":", spaces or characters outside printable ASCII, with a message that says why.
The admin and the REST API both enforce it (tests/admin, tests/api: the model's validator)."""

import pytest
from django.core.exceptions import ValidationError

from stations.identity import validate_charge_point_id

SLASH = (
    "A charge point id cannot contain “/”: it is the last part of the station's URL (/ocpp/<id>)."
)
COLON = (
    "A charge point id cannot contain “:”: the station sends its id as the username of its "
    "HTTP Basic authentication."
)
NOT_ASCII = (
    "A charge point id may only contain printable ASCII characters: letters without accents, "
    "digits and punctuation, no spaces (OCPP identity rules)."
)
REFUSED = [
    ("DEPOT/1", SLASH),
    ("/", SLASH),
    ("DEPOT:1", COLON),
    ("DÉPÔT-1", NOT_ASCII),
    ("DEPOT 1", NOT_ASCII),
    ("DEPOT\t1", NOT_ASCII),
    ("CP\x7f", NOT_ASCII),
    ("充电桩", NOT_ASCII),
]


@pytest.mark.parametrize("charge_point_id", ["CP-0001", "depot_1.east", "A*B=C+D|E@F", "x" * 64])
def test_printable_ascii_identities_are_accepted(charge_point_id):
    validate_charge_point_id(charge_point_id)


@pytest.mark.parametrize(("charge_point_id", "message"), REFUSED)
def test_an_identity_no_station_could_connect_with_is_refused_with_why(charge_point_id, message):
    with pytest.raises(ValidationError) as refused:
        validate_charge_point_id(charge_point_id)
    assert refused.value.messages == [message]
