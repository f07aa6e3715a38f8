import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mtls.nginx.plugins.filter.pki import pki_paths, server_model, valid_certificates
from ansible_collections.mtls.nginx.plugins.module_utils import _keys, _ledger, _x509


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


@pytest.mark.parametrize("entry, fragment", [
    # written by a module run on its own, or by hand: it would reach nginx's maps
    ({"serial": "A1", "name": 'x"; } server { listen 80', "status": "valid"}, "the name of serial 'A1' must be letters"),
    ({"serial": "A1", "name": "alice\n", "status": "valid"}, "must be letters"),
    ({"serial": "A1 1;", "name": "alice", "status": "valid"}, "serial 'A1 1;' is not hexadecimal"),
    ({"serial": "a1", "name": "alice", "status": "valid"}, "serial 'a1' is not hexadecimal"),
])
def test_a_ledger_entry_that_could_reach_nginx_unescaped_is_refused(tmp_path, entry, fragment):
    ledger = {**_ledger.empty(), "certificates": [entry]}
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(ledger))
    with pytest.raises(AnsibleFilterError, match=fragment + ".*restore the ledger from your backup"):
        valid_certificates(str(path))
    ledger["certificates"][0]["status"] = "revoked"  # only what nginx gets is checked
    path.write_text(json.dumps(ledger))
    assert valid_certificates(str(path)) == []


def test_rollover_layout_errors_read_the_pki_directory(tmp_path):
    from ansible_collections.mtls.nginx.plugins.filter.pki import rollover_layout_errors
    (tmp_path / "ca").mkdir()
    assert rollover_layout_errors(str(tmp_path), "none") == []
    (tmp_path / "ca-next").mkdir()
    assert "a CA rollover is under way" in rollover_layout_errors(str(tmp_path), "none")[0]
    assert rollover_layout_errors(str(tmp_path), "migrate") == []


def test_client_cas_name_the_archived_cas_a_host_may_stop_trusting(tmp_path):
    import datetime
    from ansible_collections.mtls.nginx.plugins.filter.pki import client_cas
    from ansible_collections.mtls.nginx.plugins.module_utils import _keys, _trust, _x509
    assert client_cas(str(tmp_path))["retired"] == [] and client_cas(str(tmp_path))["archived_ledgers"] == []
    assert client_cas(str(tmp_path))["trust"]["chain_depth"] == 1  # the client's CA only
    assert client_cas(str(tmp_path), two_tiers=True)["trust"]["chain_depth"] == 2  # and the root above it
    retired = tmp_path / "archive" / "20261129T000000Z-retired"
    retired.mkdir(parents=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    pem = _x509.dump_certificate(_x509.issue_ca_certificate(_keys.generate_key("ec"), _x509.build_name("Old CA"), 30, now))
    (retired / "ca.crt").write_bytes(pem)
    cas = client_cas(str(tmp_path))
    assert cas["retired"] == [_trust.fingerprint(_trust.certificates(pem)[0])]
    assert cas["archived_ledgers"] == [str(retired / "ledger.json")]


def test_while_a_move_is_due_client_cas_point_where_the_files_still_are(tmp_path):
    """A dry run at retire (or abandon): the move is only predicted, so every path is the current one."""
    import datetime
    from ansible_collections.mtls.nginx.plugins.filter.pki import client_cas
    from ansible_collections.mtls.nginx.plugins.module_utils import _keys, _trust, _x509
    now = datetime.datetime.now(datetime.timezone.utc)
    pems = {}
    for directory, name in (("ca", "Old CA"), ("ca-next", "New CA")):
        (tmp_path / directory).mkdir()
        pems[directory] = _x509.dump_certificate(_x509.issue_ca_certificate(_keys.generate_key("ec"), _x509.build_name(name), 30, now))
        (tmp_path / directory / "ca.crt").write_bytes(pems[directory])
    due = client_cas(str(tmp_path), "retire")
    assert [ca["certificate"] for ca in due["trusted"]] == [str(tmp_path / "ca-next" / "ca.crt")]
    assert due["issuing"]["ledger"] == str(tmp_path / "ca-next" / "ledger.json") and due["issuing"]["settings"] == "mtls_ca_next"
    assert due["archived_ledgers"] == [str(tmp_path / "ca" / "ledger.json")]  # to be archived: its serials stay taken
    assert due["retired"] == [_trust.fingerprint(_trust.certificates(pems["ca"])[0])]  # hosts may let it go
    abandoning = client_cas(str(tmp_path), "abandon")
    assert abandoning["trusted"][0]["certificate"] == str(tmp_path / "ca" / "ca.crt")
    assert abandoning["archived_ledgers"] == [str(tmp_path / "ca-next" / "ledger.json")]
    # once the move is done, the stage's own layout
    (tmp_path / "archive").mkdir()
    (tmp_path / "ca").rename(tmp_path / "archive" / "20261129T000000Z-retired")
    (tmp_path / "ca-next").rename(tmp_path / "ca")
    done = client_cas(str(tmp_path), "retire")
    assert done["trusted"][0]["certificate"] == str(tmp_path / "ca" / "ca.crt")
    assert done["archived_ledgers"] == [str(tmp_path / "archive" / "20261129T000000Z-retired" / "ledger.json")]
    assert done["retired"] == due["retired"]


def test_the_server_model_joins_every_trusted_ledger_and_refuses_a_damaged_one(tmp_path):
    """During a rollover both CAs' ledgers count, each matched by its CA's name; one damaged ledger
    fails the whole model, never an empty map."""
    from ansible_collections.mtls.nginx.tests.unit.plugins.module_utils.test_server_model import SETTINGS, with_sites
    cas = []
    for serial, name, ca_name in (("A1", "alice", "Old CA"), ("B2", "bob", "Ünï, CA")):
        ledger = {**_ledger.empty(), "certificates": [{"serial": serial, "name": name, "status": "valid",
                                                       "fingerprint_sha256": "ab" * 32}]}
        key = _keys.generate_key("ec")
        (tmp_path / f"{name}.crt").write_bytes(_x509.dump_certificate(
            _x509.issue_ca_certificate(key, _x509.build_name(ca_name, "Example", "NL"), 30)))
        (tmp_path / f"{name}.json").write_text(json.dumps(ledger))
        cas.append({"certificate": str(tmp_path / f"{name}.crt"), "ledger": str(tmp_path / f"{name}.json")})
    locations = [{"path": "/admin", "allow": ["bob"]}]
    model = server_model(cas, with_sites({**SETTINGS, "locations": locations}))
    assert [c["key"] for c in model["certificates"]] == ["ca1/A1", "ca2/B2"]
    assert [issuer["pattern"] for issuer in model["issuers"]] == [
        r'"~^CN\\=Old\\ CA\\,O\\=Example\\,C\\=NL$"',
        r'"~^CN\\=\\\\C3\\\\9Cn\\\\C3\\\\AF\\\\\\,\\ CA\\,O\\=Example\\,C\\=NL$"']
    assert model["sites"][0]["locations"][0]["admitted"] == [model["certificates"][1]["key"]]
    (tmp_path / "bob.json").write_text("{not json")
    with pytest.raises(AnsibleFilterError, match="is not valid JSON"):
        server_model(cas, SETTINGS)


def test_file_entries_read_each_source_on_the_control_node(tmp_path):
    import base64
    from ansible_collections.mtls.nginx.plugins.filter.pki import file_entries
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_bytes(b"<p>hi</p>\n")
    (tmp_path / "run").write_bytes(b"#!/bin/sh\n")
    assert file_entries([["/srv/www/index.html", "site/index.html"]], str(tmp_path)) == [
        {"path": "/srv/www/index.html", "content": base64.b64encode(b"<p>hi</p>\n").decode()}]
    assert file_entries([["/usr/local/bin/run", "run"]], str(tmp_path), "0755")[0]["mode"] == "0755"
    with pytest.raises(AnsibleFilterError, match="missing.html does not exist"):
        file_entries([["/srv/www/x", "missing.html"]], str(tmp_path))
