"""Id tags and MAC addresses: pure functions, no database."""

import pytest

from badges.identifiers import (
    IdTagError,
    is_autocharge_tag,
    mac_of,
    normalize_id_tag,
    normalize_mac,
)

CANONICAL = "VID:A014310E004E"


@pytest.mark.parametrize(
    "raw",
    [
        "VID:A014310E004E",
        "VID:a014310e004e",
        "vid:a014310e004e",
        "Vid:A014310E004E",
        "vId:A014310e004E",
        "VID:A0:14:31:0E:00:4E",
        "VID:a0:14:31:0e:00:4e",
        "VID:A0-14-31-0E-00-4E",
        "vid:a0-14-31-0e-00-4e",
        "VID:0000A014310E004E",
        "vid:0000a014310e004e",
        "VID:00:00:A0:14:31:0E:00:4E",
        "  VID:A014310E004E  ",
        "\tVID:A014310E004E\n",
        " vid:a0:14:31:0e:00:4e ",
    ],
)
def test_every_form_of_a_vid_tag_becomes_the_canonical_tag(raw):
    assert normalize_id_tag(raw) == CANONICAL


def test_the_din_70121_padded_form_is_exactly_twenty_characters_and_fits_a_cistring20():
    raw = "VID:0000A014310E004E"
    assert len(raw) == 20
    assert normalize_id_tag(raw) == CANONICAL


@pytest.mark.parametrize(
    "raw",
    [
        "A014310E004E",
        "a014310e004e",
        "A0:14:31:0E:00:4E",
        "a0-14-31-0e-00-4e",
        "0000A014310E004E",
    ],
)
def test_normalize_mac_accepts_lowercase_separators_and_din_padding(raw):
    assert normalize_mac(raw) == "A014310E004E"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "must carry the vehicle's MAC address"),
        (":::", "must carry the vehicle's MAC address"),
        ("  ", "must carry the vehicle's MAC address"),
        ("A014310E004G", "only contain hexadecimal digits"),
        ("ZZ14310E004E", "only contain hexadecimal digits"),
        ("A0_14_31_0E_00_4E", "only contain hexadecimal digits"),
        ("A014310E004", "has 11"),
        ("A014310E004E0", "has 13"),
        ("A0", "has 2"),
        ("1111A014310E004E", "has 16"),
        ("0000A014310E004E00", "has 18"),
        ("000000000000", "placeholder"),
        ("00:00:00:00:00:00", "placeholder"),
        ("FFFFFFFFFFFF", "placeholder"),
        ("ffffffffffff", "placeholder"),
        ("ff-ff-ff-ff-ff-ff", "placeholder"),
        ("0000000000000000", "placeholder"),
        ("01005E000001", "multicast"),
        ("A114310E004E", "multicast"),
        ("33:33:00:00:00:01", "multicast"),
        ("FF14310E004E", "multicast"),
    ],
)
def test_normalize_mac_refuses_what_is_not_one_vehicle_with_a_message(raw, message):
    with pytest.raises(IdTagError) as caught:
        normalize_mac(raw)
    assert message in str(caught.value)


def test_the_message_for_a_non_hex_mac_quotes_what_was_received():
    with pytest.raises(IdTagError, match="a014310e004g"):
        normalize_mac("a014310e004g")


def test_the_message_for_a_wrong_length_quotes_the_mac_and_counts_its_digits():
    with pytest.raises(IdTagError) as caught:
        normalize_mac("A0:14:31:0E:00")
    assert "A0:14:31:0E:00" in str(caught.value)
    assert "has 10" in str(caught.value)


def test_a_non_ascii_character_that_upper_cases_to_hex_is_not_a_hex_digit():
    # "ﬀ" (U+FB00) upper-cases to "FF": it must not become a MAC address.
    with pytest.raises(IdTagError, match="hexadecimal"):
        normalize_mac("A014310E00\ufb00")


@pytest.mark.parametrize("even_first_octet", ["00", "02", "A0", "FE", "3C"])
def test_a_unicast_first_octet_is_accepted(even_first_octet):
    assert normalize_mac(f"{even_first_octet}14310E004E") == f"{even_first_octet}14310E004E"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("VID:", "must carry the vehicle's MAC address"),
        ("vid:", "must carry the vehicle's MAC address"),
        ("VID:   ", "must carry the vehicle's MAC address"),
        ("VID:XYZ", "only contain hexadecimal digits"),
        ("VID:A014310E004", "has 11"),
        ("VID:A0:14:31:0E:00:4E:00", "has 14"),
        ("VID:000000000000", "placeholder"),
        ("VID:FFFFFFFFFFFF", "placeholder"),
        ("vid:ffffffffffff", "placeholder"),
        ("VID:01005E000001", "multicast"),
        ("VID:0000FFFFFFFFFFFF", "placeholder"),
    ],
)
def test_a_malformed_vid_tag_is_refused_with_a_message(raw, message):
    with pytest.raises(IdTagError) as caught:
        normalize_id_tag(raw)
    assert message in str(caught.value)


@pytest.mark.parametrize("raw", ["", " ", "\t\n"])
def test_an_empty_tag_is_refused(raw):
    with pytest.raises(IdTagError, match="empty"):
        normalize_id_tag(raw)


def test_id_tag_error_is_a_value_error():
    assert issubclass(IdTagError, ValueError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("04a1b2c3d4e5f6", "04A1B2C3D4E5F6"),
        ("  deadbeef ", "DEADBEEF"),
        ("rfid-0001", "RFID-0001"),
        ("Card 42", "CARD 42"),
        # A bare 12-hex string is an RFID UID, never guessed to be a MAC.
        ("a014310e004e", "A014310E004E"),
        ("A014310E004E", "A014310E004E"),
        # Not a VID prefix: the letters are not followed by a colon.
        ("VIDA014310E004E", "VIDA014310E004E"),
        ("vid-a014310e004e", "VID-A014310E004E"),
        # Placeholders and multicast only mean something behind VID:.
        ("000000000000", "000000000000"),
        ("ffffffffffff", "FFFFFFFFFFFF"),
    ],
)
def test_an_rfid_tag_is_trimmed_and_upper_cased_and_never_treated_as_a_mac(raw, expected):
    tag = normalize_id_tag(raw)
    assert tag == expected
    assert not tag.startswith("VID:")
    assert mac_of(tag) is None
    assert not is_autocharge_tag(tag)


def test_a_bare_twelve_hex_rfid_keeps_its_separators_since_it_is_not_a_mac():
    assert normalize_id_tag("a0:14:31:0e:00:4e") == "A0:14:31:0E:00:4E"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("VID:A014310E004E", True),
        ("vid:a014310e004e", True),
        ("  VID:", True),
        ("A014310E004E", False),
        ("VIDA014310E004E", False),
        ("", False),
    ],
)
def test_is_autocharge_tag_looks_at_the_prefix_in_any_case(tag, expected):
    assert is_autocharge_tag(tag) is expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("VID:A014310E004E", "A014310E004E"),
        ("VID:0214310E004E", "0214310E004E"),
        ("A014310E004E", None),
        ("04A1B2C3D4E5F6", None),
        ("", None),
    ],
)
def test_mac_of_gives_the_mac_of_a_canonical_vid_tag_and_none_for_an_rfid(tag, expected):
    assert mac_of(tag) == expected


def test_mac_of_a_normalised_tag_round_trips():
    tag = normalize_id_tag("vid:a0-14-31-0e-00-4e")
    assert mac_of(tag) == "A014310E004E"
    assert normalize_id_tag(tag) == tag


@pytest.mark.parametrize("raw", ["VID:A014310E004E", "A014310E004E", "04A1B2C3"])
def test_normalising_is_idempotent(raw):
    once = normalize_id_tag(raw)
    assert normalize_id_tag(once) == once
