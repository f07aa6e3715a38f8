# Private to the mtls.nginx collection: not a public API, may change without notice.
"""pkcs12_bundle's plan: a PKCS#12 bundle rebuilt only when it no longer matches (see _plan)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _pkcs12
from ansible_collections.mtls.nginx.plugins.module_utils._common import ENCRYPTIONS, PkiError
from ansible_collections.mtls.nginx.plugins.module_utils._keys import load_private_key, public_key_der
from ansible_collections.mtls.nginx.plugins.module_utils._plan import BUNDLE_MODE, Plan
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import load_certificate, name_field


def plan_bundle(p, cert_data, key_data, ca_data, bundle_data, check_mode=False):
    if not p["passphrase"]:
        raise PkiError("passphrase must not be empty: it protects the private key inside the bundle")
    if p["encryption"] not in ENCRYPTIONS:
        raise PkiError(f"encryption must be one of {', '.join(ENCRYPTIONS)}, got {p['encryption']!r}")
    for option, data in (("certificate_path", cert_data), ("private_key_path", key_data), ("ca_certificate_path", ca_data)):
        if data is None:
            raise PkiError(f"{option}: {p[option]} does not exist; issue it with mtls.nginx.client_cert first")
    cert = load_certificate(cert_data, p["certificate_path"])
    key = load_private_key(key_data, None, p["private_key_path"], "private_key_path")[0]
    if public_key_der(key) != public_key_der(cert):
        raise PkiError(f"private_key_path: {p['private_key_path']} is not the key of {p['certificate_path']};"
                       " reissue the certificate with mtls.nginx.client_cert")
    return plan_bundle_of(p, key, cert, [load_certificate(ca_data, p["ca_certificate_path"])], bundle_data, check_mode)


def plan_bundle_of(p, key, cert, ca_certs, bundle_data, check_mode):
    friendly_name = p["friendly_name"] or name_field(cert.subject, "CN") or ""
    wanted = {"subject": cert.subject.rfc4514_string(), "friendly_name": friendly_name, "encryption": p["encryption"]}
    plan = Plan()
    if bundle_data is None:
        plan.reason = "missing"
    else:
        plan.before = {"encryption": _profile_or_unknown(bundle_data)}
        plan.reason = _pkcs12.mismatch(bundle_data, p["passphrase"], key, cert, ca_certs, friendly_name, p["encryption"])
    if plan.reason is None:
        plan.before = plan.after = wanted
    elif not check_mode:
        data = _pkcs12.build(key, cert, ca_certs, friendly_name, p["passphrase"], p["encryption"])
        plan.writes.append((p["path"], data, BUNDLE_MODE))
        plan.after = wanted
    return plan


def _profile_or_unknown(bundle_data):
    try:
        return _pkcs12.encryption_profile(bundle_data)
    except _pkcs12.BundleError:
        return "unreadable"
