"""The lost-PKI guard: which client CA sets may replace the one a host trusts."""
import datetime

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _keys as K
from ansible_collections.mtls.nginx.plugins.module_utils import _trust as T
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X

NOW = datetime.datetime(2026, 11, 29, tzinfo=datetime.timezone.utc)


def ca(common_name, organization=None):
    cert = X.issue_ca_certificate(K.generate_key("ec"), X.build_name(common_name, organization, "NL"), 3650, NOW)
    return X.dump_certificate(cert)


OLD, NEXT, LOST = ca("Team Client CA", "Example Org"), ca("Team Client CA 2027"), ca("mtls.nginx Client CA")
# The same CA, re-signed: renewed with its key, moved under a root (two tiers); and a CA with
# OLD's name but another key.
_OLD_KEY = K.generate_key("ec")
_SAME_KEY = X.issue_ca_certificate(_OLD_KEY, X.build_name("Team Client CA", "Example Org", "NL"), 3650, NOW)
SAME, SAME_RENEWED = X.dump_certificate(_SAME_KEY), X.dump_certificate(
    X.issue_ca_certificate(_OLD_KEY, _SAME_KEY.subject, 7300, NOW + datetime.timedelta(days=1)))
_ROOT_KEY = K.generate_key("ec")
_ROOT = X.issue_ca_certificate(_ROOT_KEY, X.build_name("Team Root CA"), 7300, NOW, path_length=1)
ROOT = X.dump_certificate(_ROOT)
SAME_UNDER_ROOT = X.dump_certificate(X.issue_ca_certificate(_OLD_KEY, _SAME_KEY.subject, 3650, NOW,
                                                            issuer=(_ROOT, _ROOT_KEY)))


def sha(pem):
    return T.fingerprint(T.certificates(pem)[0])


def test_certificates_and_subjects_are_read_without_cryptography():
    ders = T.certificates(OLD + b"junk\n" + NEXT)
    assert len(ders) == 2 and T.subject(ders[0]) == "CN=Team Client CA,O=Example Org,C=NL"
    assert T.subject(b"\x30\x03\x02\x01\x00") == "?" and T.certificates(b"") == []


@pytest.mark.parametrize("current, new, retired, dropped", [
    (None, LOST, [], None),  # a new host trusts nothing yet
    (OLD, OLD, [], None),
    (OLD, OLD + NEXT, [], None),  # prepare: a CA added
    (OLD + NEXT, NEXT, [sha(OLD)], None),  # retire: the old CA was archived on purpose
    (OLD + NEXT, OLD, [sha(NEXT).lower()], None),  # abandon
    (OLD, LOST, [], [OLD]),  # a lost PKI made a new CA
    (OLD + NEXT, OLD, [], [NEXT]),  # a rollover dropped by hand
    (OLD + NEXT, LOST, [sha(OLD)], [NEXT]),
    (SAME, SAME_RENEWED, [], None),  # the CA renewed with its key: still the CA the host trusts
    (SAME, SAME_UNDER_ROOT + ROOT, [], None),  # moved under a root with its key (two tiers)
    (SAME, OLD, [], [SAME]),  # the same name with another key is another CA
])
def test_guard(current, new, retired, dropped):
    error = T.guard_error("/etc/nginx/mtls/ca.crt", current, new, retired, "Restore it.")
    if dropped is None:
        assert error is None
        return
    for pem in dropped:
        assert f"(SHA-256 {sha(pem)})" in error.split(" instead", maxsplit=1)[0]
    assert error.startswith("/etc/nginx/mtls/ca.crt: this run would stop trusting the client CA ")
    if new == LOST:
        assert f"and trust CN=mtls.nginx Client CA,C=NL (SHA-256 {sha(LOST)}) instead" in error
    assert error.endswith("Nothing was changed. Restore it.")


def test_a_hostile_subject_is_printed_escaped():
    hostile = ca("evil\x1b[2J\nok")
    error = T.guard_error("/x", hostile, OLD)
    assert "CN=evil\\x1b[2J\\nok" in error and "\x1b" not in error and "\n" not in error


def _crl_of(cert, key, other_key_id=False):
    from ansible_collections.mtls.nginx.plugins.module_utils import _crl as C
    crl = C.build_crl(cert, key, [], 1, 30, NOW)
    if other_key_id:  # the CA's name, another key (another team's CA of the same name)
        crl = C.build_crl(X.issue_ca_certificate(K.generate_key("ec"), cert.subject, 3650, NOW), key, [], 1, 30, NOW)
    return C.dump_crl(crl)


_TEAM = X.load_certificates(SAME, "same")[0]
TEAM_CRL, ROOT_CRL, FOREIGN_CRL = _crl_of(_TEAM, _OLD_KEY), _crl_of(_ROOT, _ROOT_KEY), _crl_of(_TEAM, _OLD_KEY, True)


@pytest.mark.parametrize("trust, crls, missing", [
    (SAME, TEAM_CRL, []),
    (SAME_RENEWED, TEAM_CRL, []),  # the same CA (name and key) renewed
    (SAME_UNDER_ROOT + ROOT, TEAM_CRL + ROOT_CRL, []),  # two tiers: a CRL of each
    (SAME_UNDER_ROOT + ROOT, ROOT_CRL + TEAM_CRL, []),  # in any order
    (SAME_UNDER_ROOT + ROOT, TEAM_CRL, ["CN=Team Root CA"]),
    (SAME, ROOT_CRL, ["CN=Team Client CA,O=Example Org,C=NL"]),  # another PKI's CRL (refresh_crl, wrong mtls_pki_dir)
    (SAME, FOREIGN_CRL, ["CN=Team Client CA,O=Example Org,C=NL"]),  # the same name, another key
    (SAME, b"", ["CN=Team Client CA,O=Example Org,C=NL"]),
    (SAME, b"-----BEGIN X509 CRL-----\ngarbage\n-----END X509 CRL-----\n", ["CN=Team Client CA,O=Example Org,C=NL"]),
    (b"", b"", []),
])
def test_a_crl_set_must_have_a_crl_of_every_trusted_ca(trust, crls, missing):
    assert [name for name, _digest in T.without_crl(trust, crls)] == missing
    error = T.crl_guard_error("/etc/nginx/mtls/crl.pem", "/etc/nginx/mtls/ca.crt", trust, crls, "Restore it.")
    if missing:
        assert error.startswith(f"/etc/nginx/mtls/crl.pem: this run would leave no CRL of the client CA {missing[0]}")
        assert error.endswith("Nothing was changed. Restore it.")
    else:
        assert error is None
