import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mtls.nginx.plugins.filter.pki import pki_paths, valid_certificates
from ansible_collections.mtls.nginx.plugins.module_utils import _ledger


@pytest.mark.parametrize("key, expected", [
    ("ca_certificate", "/srv/pki/ca/ca.crt"),
    ("ca_private_key", "/srv/pki/ca/ca.key"),
    ("crl", "/srv/pki/ca/crl.pem"),
    ("ledger", "/srv/pki/ca/ledger.json"),
    ("clients_dir", "/srv/pki/clients"),
    ("server_ca_certificate", "/srv/pki/server/ca.crt"),
    ("server_ca_private_key", "/srv/pki/server/ca.key"),
])
def test_the_layout_is_the_one_design_md_documents(key, expected):
    assert pki_paths("/srv/pki")[key] == expected


def test_server_and_client_files():
    paths = pki_paths("/srv/pki", "www.example.org", client="alice")
    assert (paths["server_certificate"], paths["server_private_key"]) == (
        "/srv/pki/server/www.example.org.crt", "/srv/pki/server/www.example.org.key")
    assert paths["client_dir"] == "/srv/pki/clients/alice"
    options = ("certificate_path", "private_key_path", "path", "compat_path", "trust_path", "mobileconfig_path",
               "readme_path", "zip_path")
    names = ("alice.crt", "alice.key", "alice.p12", "alice-compat.p12", "ca.crt", "alice.mobileconfig", "README.html",
             "alice.zip")
    assert [paths[option] for option in options] == ["/srv/pki/clients/alice/" + name for name in names]
    assert "server_certificate" not in pki_paths("/srv/pki")


@pytest.mark.parametrize("value", ["", None, 3])
def test_no_pki_dir_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="mtls_pki_dir must be"):
        pki_paths(value)


def test_valid_certificates_skip_the_revoked(tmp_path):
    ledger = _ledger.empty()
    ledger["certificates"] = [
        {"serial": "A1", "name": "alice", "status": "valid"},
        {"serial": "B2", "name": "bob", "status": "revoked"},
    ]
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(ledger))
    assert [e["serial"] for e in valid_certificates(str(path))] == ["A1"]


@pytest.mark.parametrize("content, fragment", [
    (None, "does not exist: run the mtls.nginx.pki role"),
    ("{not json", "is not valid JSON"),
    ('{"version": 99, "certificates": []}', "is not an mtls.nginx ledger"),
])
def test_a_missing_or_unreadable_ledger_fails_loudly(tmp_path, content, fragment):
    path = tmp_path / "ledger.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AnsibleFilterError, match=fragment):
        valid_certificates(str(path))
