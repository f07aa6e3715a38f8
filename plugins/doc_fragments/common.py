# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option documentation shared by the mtls.nginx modules."""
from __future__ import annotations


class ModuleDocFragment:
    OWNERSHIP = r"""
options:
  owner:
    description:
      - User that owns the files the module writes (name or numeric id).
      - Keeps the current owner when unset; new files belong to the user running the module.
    type: str
  group:
    description:
      - Group of the files the module writes (name or numeric id).
    type: str
"""

    KEY = r"""
options:
  key_type:
    description:
      - Algorithm of a new private key. V(ec) is NIST P-256, V(rsa) uses O(key_size) bits.
      - An existing key of another type is never replaced silently; the module fails and says how to fix it.
    type: str
    choices: [ec, rsa, ed25519]
    default: ec
  key_size:
    description:
      - Size of an RSA key in bits; 2048 to 8192, 3072 when unset. Only for O(key_type=rsa).
    type: int
"""

    CERTIFICATE = r"""
options:
  valid_days:
    description:
      - Validity period of a new certificate, in days. Changing it reissues the certificate.
    type: int
  renew_before_days:
    description:
      - Reissue the certificate when it expires within this many days.
      - Must be smaller than O(valid_days).
    type: int
  mode:
    description:
      - Mode of the certificate file, as an octal string. Private keys are always V(0600).
    type: str
    default: "0644"
  force:
    description:
      - Replace the private key and the certificate even when they are sound.
    type: bool
    default: false
"""

    CA = r"""
options:
  ca_certificate_path:
    description: Path of the CA certificate.
    type: path
    required: true
  ca_private_key_path:
    description: Path of the CA private key. It is read, never written.
    type: path
    required: true
  ca_passphrase:
    description: Passphrase of the CA private key, when it is encrypted.
    type: str
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description: Predicts exactly whether a run would change anything, without generating keys.
  diff_mode:
    support: full
    description: Shows subject, serial number, expiry and the reason for a change.
"""
