import datetime
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from ansible_collections.mtls.nginx.plugins.module_utils import _dn, _keys, _x509
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
A = x509.NameAttribute


def openssl_rfc2253(name):
    """What nginx prints: OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253, here through its CLI (a test oracle)."""
    key = _keys.generate_key("ec")
    cert = _x509.issue_ca_certificate(key, name, 30, NOW)
    out = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
                         input=_x509.dump_certificate(cert), capture_output=True, check=True).stdout
    return out.decode().rstrip("\n").removeprefix("subject=")


NAMES = [
    x509.Name([A(NameOID.COUNTRY_NAME, "NL"), A(NameOID.ORGANIZATION_NAME, "Example Org"),
               A(NameOID.COMMON_NAME, "Example Client CA")]),
    x509.Name([A(NameOID.COMMON_NAME, 'a,b+c"d\\e<f>g;h=i/j')]),
    x509.Name([A(NameOID.COMMON_NAME, "#lead and trail ")]),
    x509.Name([A(NameOID.COMMON_NAME, " space # inside ")]),
    x509.Name([A(NameOID.COMMON_NAME, "Müller Ärzte 東京 😀")]),
    x509.Name([A(NameOID.COMMON_NAME, "tab\there\nnewline\x7fdel")]),
    x509.Name([A(NameOID.DOMAIN_COMPONENT, "org"), A(NameOID.DOMAIN_COMPONENT, "example"),
               A(NameOID.ORGANIZATIONAL_UNIT_NAME, "PKI"), A(NameOID.EMAIL_ADDRESS, "pki@example.org"),
               A(NameOID.LOCALITY_NAME, "Delft"), A(NameOID.STATE_OR_PROVINCE_NAME, "ZH"),
               A(NameOID.SERIAL_NUMBER, "42"), A(NameOID.ORGANIZATION_IDENTIFIER, "VATNL-123"),
               A(NameOID.USER_ID, "u1"), A(NameOID.STREET_ADDRESS, "Main 1"), A(NameOID.GIVEN_NAME, "G"),
               A(NameOID.SURNAME, "S"), A(NameOID.TITLE, "T"), A(NameOID.POSTAL_CODE, "1234")]),
    x509.Name([x509.RelativeDistinguishedName([A(NameOID.COMMON_NAME, "multi"), A(NameOID.ORGANIZATION_NAME, "valued")]),
               x509.RelativeDistinguishedName([A(NameOID.COUNTRY_NAME, "DE")])]),
    x509.Name([A(NameOID.COMMON_NAME, "bmp ü", _ASN1Type.BMPString), A(NameOID.ORGANIZATION_NAME, "t61", _ASN1Type.T61String)]),
]


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_the_name_as_nginx_prints_it(name):
    assert _dn.nginx_dn(name) == openssl_rfc2253(name)


def test_an_attribute_whose_form_is_not_known_is_refused():
    name = x509.Name([A(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), "x"), A(NameOID.COMMON_NAME, "CA")])
    with pytest.raises(MtlsError, match=r"1\.3\.6\.1\.4\.1\.99999\.1.*only common attributes"):
        _dn.nginx_dn(name)


def unquote(key):
    """What nginx's parser makes of a quoted map key (only \\ and \" are unescaped here)."""
    assert key[0] == key[-1] == '"'
    return re.sub(r'\\([\\"])', r"\1", key[1:-1])


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_an_issuer_pattern_matches_that_name_exactly(name):
    dn = _dn.nginx_dn(name)
    key = _dn.map_pattern(dn)
    assert key.startswith('"~^') and key.endswith('$"')
    pattern = re.compile(unquote(key)[1:])
    assert pattern.match(dn)
    for other in (dn + "x", "x" + dn, dn[:-1], dn.replace("=", "-", 1), "CN=" + dn):
        assert not pattern.match(other), other
