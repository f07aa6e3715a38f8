# Private to the mtls.nginx collection: not a public API, may change without notice.
"""chain_crls' plan: a current CRL of every CA above an imported issuing CA, from the sources the
inventory names (paths or URLs), kept in one file the servers check (see _plan).

nginx (OpenSSL with CRL checks on every level) rejects every client once the CRL of any CA of
the chain is missing or has expired, so the file keeps, for each CA, the newest valid complete CRL it has
seen: a source that cannot be reached or serves an older CRL is reported and changes nothing, and
a delta or partial CRL is never kept (nginx would read it as the complete list).
"""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._common import PkiError, days_until, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._crl import (
    crl_next_update, crl_number, dump_crl, load_crls, partial_scope)
from ansible_collections.mtls.nginx.plugins.module_utils._plan import CRL_MODE, Plan
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import load_certificates


def plan_chain_crls(p, chain_data, fetched, current_data, now=None):
    """fetched: [(source, bytes or None, problem or None)] in the order of p["sources"]; chain_data:
    the PEM of the CAs above the issuing CA; current_data: the file as it is (None: missing).
    Returns the plan and the warnings (sources that failed while the file stays complete)."""
    now = now or utcnow()
    if chain_data is None:
        raise PkiError(f"chain_path: {p['chain_path']} does not exist; import the issuing CA first (mtls.nginx.ca_import)")
    chain = load_certificates(chain_data, p["chain_path"])
    warnings, candidates = [], {ca.subject: [] for ca in chain}
    for source, data, problem in fetched:
        if problem is not None:
            warnings.append(f"{source}: {problem}")
            continue
        try:
            crls = load_crls(data, source)
        except PkiError as exc:
            warnings.append(str(exc))
            continue
        for crl in crls:
            issuer, partial = _issuer(chain, crl), partial_scope(crl)
            if partial:
                warnings.append(f"{source}: {partial} of {crl.issuer.rfc4514_string()}; left out (nginx would take it for"
                                " the complete list and miss what only the base CRL revokes)")
            elif issuer is None:
                warnings.append(f"{source}: a CRL of {crl.issuer.rfc4514_string()}, no CA of the chain (or a bad signature);"
                                " left out")
            elif crl_next_update(crl) <= now:
                warnings.append(f"{source}: the CRL of {issuer.subject.rfc4514_string()} ended on"
                                f" {crl_next_update(crl).isoformat()}; the publisher has not renewed it")
            else:
                candidates[issuer.subject].append((crl, source))
    try:
        kept = load_crls(current_data, p["path"]) if current_data else []
    except PkiError as exc:
        kept = []  # rewritten from the sources (a damaged file must not stop the job that mends it)
        warnings.append(str(exc))
    for crl in kept:
        issuer = _issuer(chain, crl)
        if issuer is not None and crl_next_update(crl) > now and not partial_scope(crl):
            candidates[issuer.subject].append((crl, "kept"))
    missing = [ca.subject.rfc4514_string() for ca in chain if not candidates[ca.subject]]
    if missing:
        raise PkiError(f"sources: no valid CRL of {', '.join(missing)} among {', '.join(p['sources']) or 'no source'}"
                       f"{' (' + '; '.join(warnings) + ')' if warnings else ''}: every server would reject every client"
                       " (nginx checks a CRL of each CA of the chain); name where each CA publishes its CRL")
    chosen = [max(candidates[ca.subject], key=lambda item: _freshness(item[0])) for ca in chain]
    data = b"".join(dump_crl(crl) for crl, _source in chosen)
    plan = Plan()
    plan.after = {"crls": [{"issuer": crl.issuer.rfc4514_string(), "crl_number": crl_number(crl),
                            "next_update": crl_next_update(crl).isoformat(),
                            "days_left": days_until(crl_next_update(crl), now), "source": source}
                           for crl, source in chosen]}
    if data != current_data:
        plan.writes.append((p["path"], data, CRL_MODE))
        plan.reason = "missing" if current_data is None else "newer CRLs"
    return plan, warnings


def _issuer(chain, crl):
    return next((ca for ca in chain if crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())), None)


def _freshness(crl):
    """Newer first by CRL number (when it has one), then by its last update."""
    return crl_number(crl) or 0, getattr(crl, "last_update_utc", None) or crl.last_update
