#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: clients
short_description: Keys, client certificates, PKCS#12 bundles and onboarding kits for many users in one pass
version_added: "0.1.0"
description:
  - >-
    Does for every entry of O(clients) what M(mtls.nginx.client_cert) and
    M(mtls.nginx.pkcs12_bundle) do for one, in a single module run: the CA is loaded once, the
    ledger is read and written once, under one lock. This is what the C(pki) role uses; with
    hundreds of users it is the difference between minutes and seconds.
  - >-
    Files live in C(<clients_dir>/<name>/): C(<name>.key) (0600) and C(<name>.crt) (0644); the
    kit a user installs from, C(<name>.p12) (O(encryption), 0600), C(<name>-compat.p12) (always
    the V(compatible) profile, 0600), C(<name>.mobileconfig) (an Apple configuration profile with
    the compatible bundle and, with O(trust_certificate_path), the server's CA as a root; 0600),
    C(ca.crt) (a copy of O(trust_certificate_path), 0644), C(README.html) (fingerprint, expiry
    and install steps per platform, 0644) and, with O(zip), C(<name>.zip) holding all of them but
    the key (0600). Missing directories are created with mode 0700.
  - >-
    No passphrase is written to any of these files: the bundles carry the key encrypted, and iOS,
    macOS and every other client ask for the passphrase when importing. Kit files are rendered
    deterministically, so a rerun rewrites one only when what it says changed.
  - >-
    The same decisions as the single modules, per user: a certificate is reissued when it is
    missing, unreadable, revoked, expiring or no longer what was asked; a bundle is rebuilt when
    its content, passphrase or encryption profile differs; a kit file when its content differs.
    RV(clients) reports each user.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ca
  - mtls.nginx.common.ownership
  - mtls.nginx.common.key
  - mtls.nginx.common.attributes
options:
  clients_dir:
    description: Directory that holds one directory per user; created (and its missing parents) with mode V(0700).
    type: path
    required: true
  passphrases_dir:
    description:
      - Where the passphrases generated for users without O(clients[].p12_passphrase) are kept, one file
        C(<name>.p12-passphrase) (0600) each, outside the users' directories so that no copy of a kit carries one.
      - Required when some user has no O(clients[].p12_passphrase).
    type: path
  ledger_path:
    description: The CA's issuance ledger (see M(mtls.nginx.client_cert)).
    type: path
  encryption:
    description: Encryption profile of C(<name>.p12) (see M(mtls.nginx.pkcs12_bundle)); C(<name>-compat.p12) is always V(compatible).
    type: str
    choices: [modern, compatible]
    default: modern
  trust_certificate_path:
    description:
      - CA certificate (PEM) that issued the server's certificate, when users' devices do not trust it
        already (a private server CA). Copied to each user's C(ca.crt) and added to the Apple profile as a root.
      - Unset when the server's certificate comes from a public CA; a C(ca.crt) left from before is removed.
    type: path
  server_url:
    description: Address users open, shown in C(README.html) and its commands.
    type: str
  zip:
    description: Also write C(<name>.zip) with the user's kit (bundles, profile, C(ca.crt), README, certificate); V(false) removes it.
    type: bool
    default: false
  other_ledger_paths:
    description:
      - >-
        The ledgers of the PKI's other client CAs (during a CA rollover, the other active CA's; and
        every archived one's). A new serial is unique across all of them, and a key that any of them
        lists as revoked and nowhere as valid is never certified again.
    type: list
    elements: path
    default: []
    version_added: "0.3.0"
  keep_issuer_certificate_path:
    description:
      - >-
        During a CA rollover (stage migrate, reissue as users renew): the previous CA's certificate.
        A user's certificate from it that needs nothing new is kept; any certificate that must be
        issued (new user, renewal, new key, changed e-mail) comes from O(ca_certificate_path).
    type: path
    version_added: "0.3.0"
  clients:
    description: The users to issue for (all present).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Unique name, letters, digits, C(.), C(_) and C(-); names the files.
        type: str
        required: true
      common_name:
        description: Common name of the certificate; O(clients[].name) when unset.
        type: str
      email:
        description: E-mail address, added as an rfc822Name subject alternative name.
        type: str
      valid_days:
        description: Validity of a new certificate in days.
        type: int
        default: 365
      renew_before_days:
        description: Reissue the certificate when it expires within this many days.
        type: int
        default: 30
      p12_passphrase:
        description:
          - Passphrase of the user's bundles. One shorter than 16 characters gets a warning, since whoever gets a
            bundle can test about 10,000 guesses a second per CPU core against it, offline.
          - Left out, a random one of 100 bits is generated once and kept in O(passphrases_dir) (0600); it is
            never returned, printed or put into the kit.
        type: str
      csr:
        description:
          - >-
            A certificate signing request (PEM) from a user who keeps their key (a token, a TPM, a phone's
            keystore). Its signature must verify and its key must be EC P-256/P-384/P-521, RSA of 2048 to
            8192 bits or Ed25519; then only its public key is used. Subject, e-mail and extensions come
            from this entry and the client profile: what the request asks for (CA:TRUE, serverAuth, other
            names) is ignored, with a warning naming it.
          - No private key, no bundle and no Apple profile for such a user (ones from before are removed);
            the kit is the certificate, C(ca.crt) and a README.html for putting the certificate next to
            the key. The same request is re-signed on renewal; once its key was revoked, only a new
            request (a new key) is certified, and the run fails saying so, changing nothing.
        type: str
        version_added: "0.3.0"
"""

EXAMPLES = r"""
---
- name: Certificates and bundles for every user
  mtls.nginx.clients:
    ca_certificate_path: /srv/pki/ca/ca.crt
    ca_private_key_path: /srv/pki/ca/ca.key
    ca_passphrase: "{{ vault_mtls_ca_passphrase }}"
    clients_dir: /srv/pki/clients
    ledger_path: /srv/pki/ca/ledger.json
    trust_certificate_path: /srv/pki/server/ca.crt
    server_url: https://www.example.org/
    zip: true
    clients:
      - name: alice
        email: alice@example.org
        p12_passphrase: "{{ vault_alice_p12 }}"
      - name: bob
        p12_passphrase: "{{ vault_bob_p12 }}"
"""

RETURN = r"""
clients:
  description: One entry per user, in the order of O(clients).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The user.
      type: str
    changed:
      description: Whether anything of this user changed (or would, in check mode).
      type: bool
    reissue_reason:
      description: Why the certificate was (would be) issued; absent when it was kept.
      type: str
    bundle_reason:
      description: Why C(<name>.p12) was (would be) written; absent when it was kept.
      type: str
    compat_bundle_reason:
      description: Why C(<name>-compat.p12) was (would be) written; absent when it was kept.
      type: str
    kit_reason:
      description: Which other kit files were (would be) written or removed, and why; absent when none.
      type: str
    serial_number:
      description: Serial number of the certificate after the run, uppercase hexadecimal.
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate after the run.
      type: str
    not_after:
      description: End of validity, ISO 8601 in UTC.
      type: str
    subject:
      description: Subject of the certificate (RFC 4514).
      type: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import clients
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(clients)


if __name__ == "__main__":
    main()
