"""Id tags and vehicle MAC addresses: one canonical form out of everything stations send.

Pure functions, no database. OCPP 1.6 idTags are CiString20 (case-insensitive), so every tag
is compared in upper case. An Autocharge tag is ``VID:`` followed by the vehicle's MAC
(its EVCCID); stations send it lowercase, with ``:`` or ``-`` separators, or as the DIN 70121
8-byte EVCCID padded with leading zeros. All of these become ``VID:`` + 12 uppercase hex.
A bare 12-hex string without the prefix is an RFID UID, never guessed to be a MAC.
"""

import re
from functools import lru_cache

from django.utils.translation import gettext_lazy as _
from netaddr import EUI, NotRegisteredError

VID_PREFIX = "VID:"
MAC_HEX_LENGTH = 12
# DIN 70121 EVCCIDs are 8 bytes; a MAC padded with leading zeros fits in them.
DIN_EVCCID_HEX_LENGTH = 16

_SEPARATORS = re.compile(r"[:\-\s.]")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_PLACEHOLDER_MACS = {"000000000000", "FFFFFFFFFFFF"}


class IdTagError(ValueError):
    """The tag claims to be an Autocharge tag but carries no usable MAC address."""


def is_autocharge_tag(tag: str) -> bool:
    return tag.strip().upper().startswith(VID_PREFIX)


def normalize_mac(raw: str) -> str:
    """Return the 12 uppercase hex digits of a vehicle MAC, or raise IdTagError."""
    digits = _SEPARATORS.sub("", raw)
    if not digits:
        raise IdTagError(_("An Autocharge tag must carry the vehicle's MAC address after VID:."))
    if not _HEX.fullmatch(digits):
        raise IdTagError(
            _("The MAC address may only contain hexadecimal digits (0-9, A-F), got “%(mac)s”.")
            % {"mac": raw}
        )
    # Upper-case only once the digits are known to be ASCII hex: "\ufb00".upper() is "FF".
    digits = digits.upper()
    if len(digits) == DIN_EVCCID_HEX_LENGTH and digits.startswith("0000"):
        digits = digits[DIN_EVCCID_HEX_LENGTH - MAC_HEX_LENGTH :]
    if len(digits) != MAC_HEX_LENGTH:
        raise IdTagError(
            _("A MAC address has 12 hexadecimal digits, “%(mac)s” has %(count)d.")
            % {"mac": raw, "count": len(digits)}
        )
    if digits in _PLACEHOLDER_MACS:
        raise IdTagError(
            _("%(mac)s is a placeholder address that vehicles send when they have none.")
            % {"mac": digits}
        )
    # The lowest bit of the first octet marks a multicast (group) address: never one vehicle.
    if int(digits[:2], 16) & 0x01:
        raise IdTagError(
            _("%(mac)s is a multicast address, not the address of one vehicle.") % {"mac": digits}
        )
    return digits


# Cached: the gateway reads each presented tag twice (its log row, then the decision), and a
# fleet's tags come back plug-in after plug-in. Only the canonical forms are kept, not errors.
@lru_cache(maxsize=8192)
def normalize_id_tag(raw: str) -> str:
    """Return the canonical form of an id tag, or raise IdTagError for a malformed VID tag.

    RFID tags are upper-cased and trimmed; VID tags become ``VID:`` + 12 uppercase hex.
    """
    tag = raw.strip()
    if not tag:
        raise IdTagError(_("The tag is empty."))
    if is_autocharge_tag(tag):
        return VID_PREFIX + normalize_mac(tag[len(VID_PREFIX) :])
    return tag.upper()


def is_locally_administered(mac: str) -> bool:
    """The second-lowest bit of the first octet marks an address the device made up (often
    randomised), not one assigned by its manufacturer."""
    return bool(int(mac[:2], 16) & 0x02)


def mac_of(tag: str) -> str | None:
    """The MAC address carried by a canonical VID tag, or None for an RFID tag."""
    return tag[len(VID_PREFIX) :] if tag.startswith(VID_PREFIX) else None


@lru_cache(maxsize=4096)
def oui_organisation(mac: str) -> str:
    """Who the IEEE registered the MAC's first three bytes to (shipped with netaddr, no network
    at run time), or "" when nobody did: common for vehicles' charging controllers."""
    try:
        return EUI(mac).oui.registration().org
    except (NotRegisteredError, ValueError, IndexError):
        return ""
