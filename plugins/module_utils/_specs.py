# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Argument specs of the modules, in one place for the modules and their controller-side actions.

No third-party imports, so the specs load even where cryptography is missing.
"""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._common import ENCRYPTIONS, KEY_TYPES, REVOKE_REASONS
from ansible_collections.mtls.nginx.plugins.module_utils._rollover import STAGES

_OWNERSHIP = {"owner": {"type": "str"}, "group": {"type": "str"}}
_KEY = {"key_type": {"type": "str", "default": "ec", "choices": list(KEY_TYPES)}, "key_size": {"type": "int"}}
_CERTIFICATE = {"mode": {"type": "str", "default": "0644"}, "force": {"type": "bool", "default": False}}
_CA = {
    "ca_certificate_path": {"type": "path", "required": True},
    "ca_private_key_path": {"type": "path", "required": True},
    "ca_passphrase": {"type": "str", "no_log": True},
}
BUNDLE_INPUTS = ("certificate_path", "private_key_path", "ca_certificate_path")

SPECS = {
    "pki_info": {"argument_spec": {
        "pki_dir": {"type": "path", "required": True},
        "expiring_within_days": {"type": "int", "default": 30},
        "crl_expiring_within_days": {"type": "int", "default": 3},
    }},
    "ca_rollover": {"argument_spec": {
        "stage": {"type": "str", "required": True, "choices": list(STAGES)},
        "ca_dir": {"type": "path", "required": True},
        "next_ca_dir": {"type": "path", "required": True},
        "archive_dir": {"type": "path", "required": True},
    }},
    "verify_server": {"argument_spec": {
        "url": {"type": "str", "required": True},
        "ca_path": {"type": "path"},
        "client_cert": {"type": "path"},
        "client_key": {"type": "path"},
        "refusal_text": {"type": "str", "default": ""},
        "attempts": {"type": "int", "default": 10},
        "delay": {"type": "float", "default": 1.0},
    }, "required_together": [["client_cert", "client_key"]]},
    "ca_root": {"argument_spec": {
        "certificate_path": {"type": "path", "required": True},
        "private_key_path": {"type": "path", "required": True},
        "passphrase": {"type": "str", "no_log": True},
        "common_name": {"type": "str", "required": True},
        "organization": {"type": "str"},
        "country": {"type": "str"},
        "valid_days": {"type": "int", "default": 3650},
        "renew_before_days": {"type": "int", "default": 90},
        "permitted_names": {"type": "list", "elements": "str", "default": []},
        **_KEY, **_CERTIFICATE, **_OWNERSHIP,
    }},
    "client_cert": {"argument_spec": {
        **_CA,
        "certificate_path": {"type": "path", "required": True},
        "private_key_path": {"type": "path", "required": True},
        "common_name": {"type": "str"},
        "organization": {"type": "str"},
        "country": {"type": "str"},
        "email": {"type": "str"},
        "valid_days": {"type": "int", "default": 365},
        "renew_before_days": {"type": "int", "default": 30},
        "ledger_path": {"type": "path"},
        "name": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        **_KEY, **_CERTIFICATE, **_OWNERSHIP,
    }, "required_if": [("state", "present", ["common_name"])]},
    "server_cert": {"argument_spec": {
        "ca_certificate_path": {"type": "path"},
        "ca_private_key_path": {"type": "path"},
        "ca_passphrase": {"type": "str", "no_log": True},
        "certificate_path": {"type": "path", "required": True},
        "private_key_path": {"type": "path", "required": True},
        "common_name": {"type": "str", "required": True},
        "dns_names": {"type": "list", "elements": "str", "default": []},
        "ip_addresses": {"type": "list", "elements": "str", "default": []},
        "valid_days": {"type": "int", "default": 365},
        "renew_before_days": {"type": "int", "default": 30},
        **_KEY, **_CERTIFICATE, **_OWNERSHIP,
    }, "required_together": [("ca_certificate_path", "ca_private_key_path")]},
    "server_certs": {"argument_spec": {
        **_CA,
        "servers_dir": {"type": "path", "required": True},
        "servers": {"type": "list", "elements": "dict", "required": True, "options": {
            "name": {"type": "str", "required": True},
            "dns_names": {"type": "list", "elements": "str", "default": []},
            "ip_addresses": {"type": "list", "elements": "str", "default": []},
        }},
        "valid_days": {"type": "int", "default": 365},
        "renew_before_days": {"type": "int", "default": 30},
        **_KEY, **_OWNERSHIP,
    }},
    "pkcs12_bundle": {"argument_spec": {
        "path": {"type": "path", "required": True},
        "certificate_path": {"type": "path"},
        "private_key_path": {"type": "path"},
        "ca_certificate_path": {"type": "path"},
        "passphrase": {"type": "str", "no_log": True},
        "friendly_name": {"type": "str"},
        "encryption": {"type": "str", "default": "modern", "choices": list(ENCRYPTIONS)},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        **_OWNERSHIP,
    }, "required_if": [("state", "present", [*BUNDLE_INPUTS, "passphrase"])]},
    "crl": {"argument_spec": {
        **_CA,
        "path": {"type": "path", "required": True},
        "ledger_path": {"type": "path", "required": True},
        "clients": {"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "revoked", "absent"]},
            "revoke_reason": {"type": "str", "choices": list(REVOKE_REASONS)},
        }},
        "revoke_unlisted": {"type": "bool", "default": True},
        "other_ledger_paths": {"type": "list", "elements": "path", "default": []},
        "next_update_days": {"type": "int", "default": 30},
        "refresh_before_days": {"type": "int", "default": 7},
        **_OWNERSHIP,
    }},
    "clients": {"argument_spec": {
        **_CA,
        "clients_dir": {"type": "path", "required": True},
        "passphrases_dir": {"type": "path"},
        "ledger_path": {"type": "path"},
        "encryption": {"type": "str", "default": "modern", "choices": list(ENCRYPTIONS)},
        "trust_certificate_path": {"type": "path"},
        "server_url": {"type": "str"},
        "zip": {"type": "bool", "default": False},
        "other_ledger_paths": {"type": "list", "elements": "path", "default": []},
        "keep_issuer_certificate_path": {"type": "path"},
        "clients": {"type": "list", "elements": "dict", "required": True, "options": {
            "name": {"type": "str", "required": True},
            "common_name": {"type": "str"},
            "email": {"type": "str"},
            "valid_days": {"type": "int", "default": 365},
            "renew_before_days": {"type": "int", "default": 30},
            "p12_passphrase": {"type": "str", "no_log": True},
            "csr": {"type": "str"},
        }},
        **_KEY, **_OWNERSHIP,
    }},
}
