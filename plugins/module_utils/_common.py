# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Names shared by the modules and their logic; no third-party imports."""
from __future__ import annotations

import datetime
import re
import unicodedata

KEY_TYPES = ("ec", "rsa", "ed25519")
ENCRYPTIONS = ("modern", "compatible")
# RFC 5280 reason codes, by the names cryptography's x509.ReasonFlags uses.
REVOKE_REASONS = ("unspecified", "key_compromise", "affiliation_changed", "superseded",
                  "cessation_of_operation", "privilege_withdrawn")


# Inventory bundle passphrases shorter than this get a warning: a bundle is open to offline guessing.
MIN_PASSPHRASE_LENGTH = 16

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
HOST_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
SERVER_NAME_RE = re.compile(rf"^(\*\.)?{HOST_LABEL}(\.{HOST_LABEL})*\Z")


class MtlsError(Exception):
    """An input or a file cannot be used; the message names the field and the fix."""


class PkiError(MtlsError):
    """The request or the files on disk cannot be used; the message names the field and the fix."""


class UnreadableKeyError(PkiError):
    """A key file holds no key we can read (as opposed to a passphrase problem)."""


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def days_until(when, now):
    """Days from now to when (negative once past), as a float."""
    return (when - now).total_seconds() / 86400


def days_left(when, now):
    """days_until rounded to two places, as reports show it."""
    return round(days_until(when, now), 2)


def printable(text):
    """text with every control, format, separator or unassigned character escaped (\\x1b, \\u202e),
    spaces apart: a value from a certificate or request cannot move a terminal's cursor, colour
    it, or reorder or forge the lines a run prints."""
    return "".join(char if char == " " or not unicodedata.category(char).startswith(("C", "Z"))
                   else char.encode("unicode_escape").decode("ascii") for char in str(text))
