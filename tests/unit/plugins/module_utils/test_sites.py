"""mtls_sites (work in progress for issue 26): checks naming site and field, and defaults from the single site."""
import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _sites

DEFAULTS = {"server_name": "www.example.org", "listen_address": "*", "listen_port": 443, "upstream": "",
            "send_certificate": False, "locations": [], "verify_client": "on"}
CLIENTS = ["alice", "bob"]


def test_no_sites_is_the_implicit_one():
    assert _sites.normalize([], DEFAULTS) == [{**DEFAULTS, "name": "mtls-nginx", "mode": "server", "websocket": False,
                                               "default_server": False}]


def test_a_site_takes_what_it_leaves_out_from_the_single_site_variables():
    site = _sites.normalize([{"name": "grafana", "server_name": "grafana.internal", "websocket": True}], DEFAULTS)[0]
    assert site["listen_port"] == 443 and site["verify_client"] == "on" and site["websocket"] is True
    assert site["server_name"] == "grafana.internal" and site["dns_names"] == []


@pytest.mark.parametrize("sites, fragment", [
    ("grafana", "mtls_sites must be a list"),
    ([{"name": "../etc", "server_name": "a.internal"}], "mtls_sites[0].name must be lowercase letters"),
    ([{"name": "mtls-nginx", "server_name": "a.internal"}], "not 'mtls-nginx'"),
    ([{"name": "a", "server_name": "a.internal"}, {"name": "a", "server_name": "b.internal"}],
     "mtls_sites[1].name a is used again: mtls_sites[0] has it already"),
    ([{"name": "a", "server_name": "a.internal"}, {"name": "b", "server_name": "A.internal"}],
     "mtls_sites[1] (b).server_name A.internal on port 443 is mtls_sites[0]'s too"),
    ([{"name": "a", "server_name": "a.internal; include /etc/passwd"}], "mtls_sites[0] (a).server_name must be a host name"),
    ([{"name": "a", "server_name": "a.internal", "locations": [{"path": "/admin", "allow": ["mallory"]}]}],
     "mtls_sites[0] (a).locations[0].allow names 'mallory'"),
    ([{"name": "a", "server_name": "a.internal", "listen_port": 70000}], "mtls_sites[0] (a).listen_port must be a port"),
    ([{"name": "a", "server_name": "a.internal", "mode": "edit"}], "mtls_sites[0] (a).mode must be one of server, include"),
    ([{"name": "a", "server_name": "a.internal", "websocket": "yes"}], "mtls_sites[0] (a).websocket must be true or false"),
    ([{"name": "a", "server_name": "a.internal", "servername": "x"}], "mtls_sites[0] (a) has unknown fields servername"),
])
def test_bad_sites_are_named_by_site_and_field(sites, fragment):
    found = _sites.errors(sites, CLIENTS)
    assert len(found) == 1 and fragment in found[0], found


def test_two_sites_on_one_port_with_their_own_names_are_fine():
    assert _sites.errors([{"name": "grafana", "server_name": "grafana.internal"},
                          {"name": "kibana", "server_name": "kibana.internal",
                           "locations": [{"path": "/admin", "allow": ["alice"]}]}], CLIENTS) == []
