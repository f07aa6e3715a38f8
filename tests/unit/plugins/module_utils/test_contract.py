"""The inventory contract: every rule the two roles share, in one place, with messages naming host and variable."""
import pytest

from ansible_collections.mtls.nginx.plugins.filter.inventory import contract as contract_filter
from ansible_collections.mtls.nginx.plugins.module_utils import _contract

PKI = {"mtls_pki_dir": "/srv/pki", "mtls_server_name": "www.example.org", "mtls_listen_port": 443,
       "mtls_clients": [{"name": "alice"}, {"name": "bob", "csr": "-----BEGIN CERTIFICATE REQUEST-----"},
                        {"name": "carol", "state": "absent", "revoke_reason": "key_compromise"},
                        {"name": "dave", "p12_passphrase": "correct horse battery staple"}],
       "mtls_client_kit_url": "", "mtls_ca_rollover": "none", "mtls_ca_rollover_reissue": "on_renewal",
       "mtls_ca": {"common_name": "Client CA"}, "mtls_ca_next": {}, "mtls_server_certificate": "",
       "mtls_server_private_key": "", "mtls_server_ca_certificate": "", "mtls_server_dns_names": [],
       "mtls_server_ip_addresses": []}
SERVER = {**{k: v for k, v in PKI.items() if not k.startswith("mtls_ca")}, "mtls_listen_address": "*", "mtls_upstream": "",
          "mtls_locations": [], "mtls_verify_client": "on", "mtls_ssl_session_timeout": "1h",
          "mtls_keepalive_timeout": "75s", "mtls_stream_services": []}


def pki(fleet=None, **overrides):
    return _contract.contract({**PKI, **overrides}, "pki", fleet or {}, "localhost", "/srv/pki/server/ca.crt")


def server(**overrides):
    return _contract.contract({**SERVER, **overrides}, "server", None, "web1", "/srv/pki/server/ca.crt")


@pytest.mark.parametrize("name, port, url", [
    ("www.example.org", 443, "https://www.example.org/"), ("www.example.org", 8443, "https://www.example.org:8443/"),
    ("localhost", 9443, "https://localhost:9443/")])
def test_one_server_url_for_the_kit_and_the_verify_step(name, port, url):
    assert _contract.server_url(name, port) == url
    assert pki(mtls_server_name=name, mtls_listen_port=port)["kit_url"] == url
    assert server(mtls_server_name=name, mtls_listen_port=port)["verify"][0]["url"] == url


def test_the_kit_url_can_point_elsewhere():
    assert pki(mtls_client_kit_url="https://portal.example.org/")["kit_url"] == "https://portal.example.org/"


@pytest.mark.parametrize("own, own_ca, expected", [
    ("", "", "/srv/pki/server/ca.crt"),  # the pki role issued it
    ("/certs/web.crt", "/certs/corp-ca.crt", "/certs/corp-ca.crt"),  # a private CA of the team's
    ("/certs/web.crt", "", ""),  # a public CA: the system's trust store
])
def test_the_ca_a_device_trusts_for_a_server(own, own_ca, expected):
    assert _contract.device_trust(own, own_ca, "/srv/pki/server/ca.crt") == expected
    key = "/certs/web.key" if own else ""
    settings = {"mtls_server_certificate": own, "mtls_server_private_key": key, "mtls_server_ca_certificate": own_ca}
    assert server(**settings)["verify"][0]["trust"] == expected
    assert [server(**settings)[field] for field in ("certificate", "private_key")] == (
        [own, key] if own else ["/srv/pki/server/www.example.org.crt", "/srv/pki/server/www.example.org.key"])


def test_the_clients_view_both_roles_read():
    model = pki()
    assert model["errors"] == []
    assert model["present"] == ["alice", "bob", "dave"] and model["absent"] == ["carol"]
    assert [client["name"] for client in model["issue"]] == ["alice", "bob", "dave"]
    assert not any("state" in client or "revoke_reason" in client for client in model["issue"])
    assert model["revocation"][2] == {"name": "carol", "state": "absent", "revoke_reason": "key_compromise"}
    assert not any("p12_passphrase" in client for client in model["revocation"])  # the crl module never gets one
    assert model["verify_name"] == "alice"
    assert server(mtls_clients=[{"name": "bob", "csr": "-----BEGIN CERTIFICATE REQUEST-----"}])["verify_name"] == ""


def test_the_fleet_and_the_names_the_server_ca_may_vouch_for():
    fleet = {"web1": {"mtls_server_name": "web1.example.org", "mtls_server_dns_names": ["www.example.org"]},
             "web2": {"mtls_server_name": "web1.example.org", "mtls_server_ip_addresses": ["10.0.0.2"]},
             "api": {"mtls_server_name": "api.example.org", "mtls_server_certificate": "/c/api.crt",
                     "mtls_server_private_key": "/c/api.key"}}
    model = pki(fleet)
    assert model["errors"] == []
    assert model["fleet"] == [{"name": "web1.example.org", "dns_names": ["www.example.org"], "ip_addresses": ["10.0.0.2"]}]
    assert model["server_names"] == ["web1.example.org", "www.example.org", "10.0.0.2"]
    assert model["kit_trust"] == "/srv/pki/server/ca.crt"


def test_without_a_fleet_the_kit_carries_the_teams_own_ca():
    fleet = {"web1": {"mtls_server_certificate": "/c/web.crt", "mtls_server_private_key": "/c/web.key"}}
    model = pki(fleet, mtls_server_ca_certificate="/c/corp-ca.crt")
    assert model["errors"] == [] and model["fleet"] == [] and model["kit_trust"] == "/c/corp-ca.crt"


@pytest.mark.parametrize("fleet, fragment", [
    ({"web2": {"mtls_server_name": "web2;include /etc/passwd"}}, "host web2: mtls_server_name must be a host name"),
    ({"web2": {"mtls_server_dns_names": ["bad name"]}}, "host web2: mtls_server_dns_names: 'bad name' is not a host name"),
    ({"web2": {"mtls_server_ip_addresses": ["::1%eth0"]}}, "host web2: mtls_server_ip_addresses: '::1%eth0' is not an IP"),
    ({"web1": {"mtls_server_name": "web.example.org"}, "web2": {"mtls_server_name": "WEB.example.org"}},
     "host web2: mtls_server_name WEB.example.org differs from host web1's web.example.org only in case"),
    ({"web2": {"mtls_server_certificate": "/c/web.crt"}}, "host web2: mtls_server_certificate and mtls_server_private_key"),
])
def test_fleet_problems_name_the_inventory_host_and_variable(fleet, fragment):
    errors = pki(fleet)["errors"]
    assert len(errors) == 1 and fragment in errors[0], errors


@pytest.mark.parametrize("overrides, fragment", [
    ({"mtls_server_dns_names": ["bad name"]}, "host localhost: mtls_server_dns_names"),  # no group: the play host's own
    ({"mtls_clients": [{"name": "../x"}]}, "mtls_clients[0].name must be letters"),
    ({"mtls_client_kit_url": "javascript:alert(1)"}, "mtls_client_kit_url must be an https URL"),
    ({"mtls_ca_rollover": "prepare"}, "mtls_ca_next.common_name must be set"),
    ({"mtls_server_ca_certificate": "/c/corp-ca.crt"}, "mtls_server_ca_certificate is the CA of your own server certificates"),
    ({"mtls_server_private_key": "/c/web.key"}, "mtls_server_certificate and mtls_server_private_key are given together"),
])
def test_pki_problems(overrides, fragment):
    errors = pki(**overrides)["errors"]
    assert len(errors) == 1 and fragment in errors[0], errors


@pytest.mark.parametrize("overrides, fragment", [
    ({"mtls_listen_address": "::1%eth0"}, "mtls_listen_address must be"),
    ({"mtls_locations": [{"path": "/admin", "allow": ["mallory"]}]}, "mtls_locations[0].allow names 'mallory'"),
    ({"mtls_keepalive_timeout": "75s; include x"}, "mtls_keepalive_timeout must be an nginx time"),
    ({"mtls_stream_services": [{"name": "pg", "listen_port": 443, "upstream": "127.0.0.1:5432", "allow": ["alice"]}]},
     "listen_port 443 is taken by mtls_listen_port"),
    ({"mtls_stream_services": [{"name": "pg", "listen_port": 8443, "upstream": "127.0.0.1:5432", "allow": ["alice"]}],
      "mtls_sites": [{"name": "api", "server_name": "api.test", "listen_port": 8443}]},
     "mtls_stream_services[0].listen_port 8443 is mtls_sites api's"),
    ({"mtls_sites": [{"name": "api", "server_name": "api.test", "allow": ["mallory"]}]}, "mtls_sites[0] (api).allow names"),
    ({"mtls_worker_shutdown_timeout": "10s;"}, "mtls_worker_shutdown_timeout must be an nginx time"),
])
def test_server_problems(overrides, fragment):
    errors = server(**overrides)["errors"]
    assert len(errors) == 1 and fragment in errors[0], errors


def test_a_malformed_client_list_still_yields_errors_not_a_crash():
    model = pki(mtls_clients=["alice", {"name": "bob"}])
    assert "mtls_clients[0] must be a mapping" in model["errors"][0]
    assert model["present"] == ["bob"]


def test_the_filter_reads_each_fleet_hosts_own_variables():
    hostvars = {"web1": {"mtls_server_name": "web1.example.org", "unrelated": 1}, "web2": {}}
    model = contract_filter(list(PKI.items()), "pki", ["web1", "web2"], hostvars, "localhost")
    assert [server["name"] for server in model["fleet"]] == ["web1.example.org", "www.example.org"]
    assert model["kit_trust"] == "/srv/pki/server/ca.crt"
    assert contract_filter(list(SERVER.items()), "server")["verify"][0]["trust"] == "/srv/pki/server/ca.crt"


def test_the_server_role_gets_its_listener_under_the_server_models_names():
    from ansible_collections.mtls.nginx.plugins.module_utils import _server_model
    settings = {**SERVER, "mtls_ssl_verify_depth": 1, "mtls_tls_profile": "modern", "mtls_upstream_send_certificate": True}
    listener = server(**settings)["listener"]
    assert listener["send_certificate"] is True and listener["tls_profile"] == "modern" and listener["listen_port"] == 443
    model = _server_model.build({**listener, "nginx_version": "1.22.1", "tls_dir": "/t", "www_dir": "/w"}, [])
    assert model["tls"]["protocols"] == "TLSv1.3" and model["sites"][0]["listen"] == "*:443"
    assert "listener" not in pki()


def test_pki_problems_name_the_host_of_a_bad_site():
    errors = contract_filter([*PKI.items()], "pki", ["web1"], {"web1": {"mtls_sites": [{"name": "../x", "server_name": "a.test"}]}})
    assert any(error.startswith("host web1: mtls_sites[0].name must be lowercase") for error in errors["errors"]), errors


def test_the_pki_role_issues_a_certificate_for_each_site_and_fences_the_server_ca_to_their_names():
    sites = [{"name": "a", "server_name": "a.test", "dns_names": ["a2.test"]},
             {"name": "b", "server_name": "b.test", "ip_addresses": ["192.0.2.7"]},
             {"name": "own", "server_name": "own.test", "certificate": "/c/own.crt", "private_key": "/c/own.key"},
             {"name": "legacy", "mode": "include", "server_name": "legacy.test"}]
    model = contract_filter([*PKI.items()], "pki", ["web1"], {"web1": {"mtls_server_name": "web1.test", "mtls_sites": sites}})
    assert [server["name"] for server in model["fleet"]] == ["web1.test", "a.test", "b.test"]
    assert model["server_names"] == ["web1.test", "a.test", "b.test", "a2.test", "192.0.2.7"]


def test_each_site_is_verified_against_the_ca_devices_trust_for_it():
    sites = [{"name": "a", "server_name": "a.test", "listen_port": 8443},
             {"name": "legacy", "mode": "include", "server_name": "legacy.test", "ca_certificate": "/c/corp.crt"}]
    assert server(mtls_sites=sites)["verify"] == [
        {"url": "https://a.test:8443/", "trust": "/srv/pki/server/ca.crt", "user": "alice"},
        {"url": "https://legacy.test/", "trust": "/c/corp.crt", "user": "alice"}]


def test_the_server_roles_contract_holds_no_secret():
    """The server role keeps its contract as a fact, which ansible-playbook -vvv prints."""
    contract = server(mtls_clients=[{"name": "alice", "p12_passphrase": "alice-secret-passphrase"},
                                    {"name": "bob", "csr": "-----BEGIN CERTIFICATE REQUEST-----"}])
    assert "alice-secret-passphrase" not in repr(contract) and "BEGIN CERTIFICATE REQUEST" not in repr(contract)
    assert contract["present"] == ["alice", "bob"] and contract["verify_name"] == "alice"


def test_each_site_is_proven_as_a_user_it_admits():
    """Three sites, alice first: kibana admits only dave; secret admits only bob (whose key is not here: a csr)."""
    sites = [{"name": "grafana", "server_name": "grafana.test"},
             {"name": "kibana", "server_name": "kibana.test", "allow": ["dave"]},
             {"name": "secret", "server_name": "secret.test", "allow": ["bob"]}]
    verify = server(mtls_sites=sites)["verify"]
    assert [(item["url"], item["user"]) for item in verify] == [
        ("https://grafana.test/", "alice"), ("https://kibana.test/", "dave"), ("https://secret.test/", "")]
    assert server()["verify"][0]["user"] == "alice"  # the implicit site
