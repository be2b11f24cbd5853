"""Station passwords: machine secrets of 16 to 40 random characters, hashed fast.

A user's password is guessable, so Django hashes it slowly on purpose (PBKDF2, a million
iterations: 0.24 s of CPU). A station's password is a long random secret that nobody guesses
faster than the hash can be computed, whatever the hash costs; what it must resist is being read
back from a stolen database, which a salted HMAC-SHA256 does. Checking one costs microseconds,
so a boot storm of thousands of stations, or a flood of wrong passwords, costs the server
nothing (the slow hash stalled every station's database work: issue "Stations in production
conditions").

Hashes made by earlier versions with Django's hashers keep working; they are slow to check
(off the event loop and off the database thread, ``needs_thread``) and replaced by a fast one
at the station's next successful connection.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.contrib.auth import hashers

ALGORITHM = "hmac_sha256"
_SALT_BYTES = 16
# Compared against when there is no hash to check, so that a missing station or password costs
# what a wrong password does.
_DUMMY = f"{ALGORITHM}${'0' * 2 * _SALT_BYTES}${'0' * 64}"


def _digest(raw: str, salt_hex: str) -> str:
    return hmac.new(bytes.fromhex(salt_hex), raw.encode(), hashlib.sha256).hexdigest()


def make(raw: str) -> str:
    """The stored form of a station password: ``hmac_sha256$<salt>$<digest>``, hexadecimal."""
    salt = secrets.token_hex(_SALT_BYTES)
    return f"{ALGORITHM}${salt}${_digest(raw, salt)}"


def is_fast(encoded: str) -> bool:
    return encoded.startswith(f"{ALGORITHM}$")


def needs_thread(encoded: str) -> bool:
    """A hash of an earlier version (Django's slow hashers): check it in a worker thread."""
    return bool(encoded) and not is_fast(encoded)


@dataclass(frozen=True)
class Verdict:
    matches: bool
    upgrade: bool = False
    """It matched a slow hash of an earlier version: store a fast one."""


def verify(raw: str, encoded: str) -> Verdict:
    """Whether ``raw`` is the password ``encoded`` was made from, compared in constant time.
    An empty ``encoded`` (no password) matches nothing, at the same cost."""
    if not encoded or is_fast(encoded):
        _, salt, digest = (encoded or _DUMMY).split("$", 2)
        try:
            computed = _digest(raw, salt)
        except ValueError:  # not hexadecimal: a damaged row
            return Verdict(False)
        return Verdict(hmac.compare_digest(computed, digest) and bool(encoded))
    matches = hashers.check_password(raw, encoded)
    return Verdict(matches, upgrade=matches)
