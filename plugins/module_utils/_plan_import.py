# Private to the mtls.nginx collection: not a public API, may change without notice.
"""ca_import's plan: an issuing CA the team already has (certificate, key and the CAs above it),
checked and kept under the PKI's layout so that the collection issues users under it (see _plan)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _dn
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError, PkiError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._keys import dump_private_key, load_private_key, public_key_der
from ansible_collections.mtls.nginx.plugins.module_utils._plan import KEY_MODE, Plan, _fail_on, cert_mode
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import (
    build_chain, ca_problems, describe, dump_certificate, load_certificate, load_certificates, name_field, not_after)

CHAIN_MODE = 0o644


def plan_import(p, sources, current, now=None):
    """sources/current: {"certificate", "private_key", "chain"} bytes (None: no such file) of what the
    inventory names and of what ca/ holds. Nothing is written unless everything checks out."""
    now = now or utcnow()
    cert, key, chain = _checked_source(p, sources, now)
    plan = Plan()
    changes = []
    if current["certificate"] is not None:
        held = load_certificate(current["certificate"], p["certificate_path"])
        plan.before = describe(held)
        if public_key_der(held) != public_key_der(cert) or held.subject != cert.subject:
            raise PkiError(
                f"source_certificate: {p['certificate_path']} holds {held.subject.rfc4514_string()}, another CA than"
                f" {cert.subject.rfc4514_string()}: replacing it would lock out every user it issued for. To move to"
                " the imported CA, roll over to it (mtls_ca_next with its certificate and key; README, \"Rolling the"
                " client CA over\"), or point source_certificate back at the CA in use")
        if held != cert:
            changes.append("renewed")  # the same CA, re-signed by its issuer
    else:
        changes.append("imported")
    wanted_key = dump_private_key(key, p["passphrase"])
    if current["private_key"] is None or not _same_key(current["private_key"], p, key):
        plan.writes.append((p["private_key_path"], wanted_key, KEY_MODE))
        if current["private_key"] is not None:
            changes.append("key rewritten")
    if current["certificate"] != dump_certificate(cert):
        plan.writes.append((p["certificate_path"], dump_certificate(cert), cert_mode(p)))
    wanted_chain = b"".join(dump_certificate(ca) for ca in chain)
    if current["chain"] != wanted_chain:
        plan.writes.append((p["chain_path"], wanted_chain, CHAIN_MODE))
        if current["chain"] is not None:
            changes.append("chain changed")
    plan.reason = (", ".join(changes) or "rewritten") if plan.writes else None
    plan.after = {**describe(cert), "chain": [ca.subject.rfc4514_string() for ca in chain]}
    plan.certificate = cert
    return plan


def _checked_source(p, sources, now):
    """(certificate, key, chain) of the CA to import, or PkiError naming the option and the fix."""
    for option, what in (("source_certificate", "certificate"), ("source_private_key", "private_key"),
                         ("source_chain", "chain")):
        if sources[what] is None:
            raise PkiError(f"{option}: {p[option]} does not exist; give the path of the CA's {what.replace('_', ' ')}"
                           " on the control node")
    cert = load_certificate(sources["certificate"], p["source_certificate"])
    key = load_private_key(sources["private_key"], p["source_passphrase"], p["source_private_key"], "source_passphrase")[0]
    if public_key_der(key) != public_key_der(cert):
        raise PkiError(f"source_private_key: {p['source_private_key']} is not the key of {p['source_certificate']};"
                       " point both options at the same CA")
    candidates = load_certificates(sources["chain"], p["source_chain"])
    if not candidates:
        raise PkiError(f"source_chain: {p['source_chain']} holds no PEM certificate; give the CAs above"
                       f" {cert.subject.rfc4514_string()} up to the root")
    try:
        chain = build_chain(cert, candidates)
    except PkiError as exc:
        raise PkiError(f"source_chain: {exc}") from None
    if not chain:
        raise PkiError(f"source_certificate: {cert.subject.rfc4514_string()} is self-signed: a root is made with"
                       " mtls.nginx.ca_root, not imported; import the issuing CA under it")
    problems = ca_problems(cert, 0, crl_signer=True)
    problems += [problem for below, ca in enumerate(chain, start=1) for problem in ca_problems(ca, below)]
    problems += [f"{ca.subject.rfc4514_string()} ended on {not_after(ca).isoformat()}" for ca in [cert, *chain]
                 if not_after(ca) <= now]
    _fail_on([f"source_certificate: {problem}" for problem in problems])
    if p.get("common_name") and name_field(cert.subject, "CN") != p["common_name"]:
        raise PkiError(f"common_name: {p['source_certificate']} is {cert.subject.rfc4514_string()}; set common_name to"
                       f" its common name, {name_field(cert.subject, 'CN')!r} (other checks, such as a rollover's, go by it)")
    try:
        _dn.nginx_dn(cert.subject)
    except MtlsError as exc:
        raise PkiError(f"source_certificate: {exc}") from None
    return cert, key, chain


def _same_key(data, p, key):
    """Whether the key file holds this key, encrypted as the passphrase option asks."""
    try:
        held, encrypted = load_private_key(data, p["passphrase"], p["private_key_path"])
    except PkiError:
        return False
    return public_key_der(held) == public_key_der(key) and encrypted == bool(p["passphrase"])
