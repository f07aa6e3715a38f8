"""mtls_sites: checks naming site and field, defaults from the single site, and when a port may be shared."""
import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _sites

HOST = {"mtls_server_name": "www.example.org", "mtls_server_dns_names": ["www2.example.org"], "mtls_server_ip_addresses": [],
        "mtls_server_certificate": "", "mtls_server_private_key": "", "mtls_listen_address": "*", "mtls_listen_port": 443,
        "mtls_upstream": "", "mtls_upstream_send_certificate": False, "mtls_locations": [], "mtls_verify_client": "on",
        "mtls_pki_dir": "/pki"}
CLIENTS = ["alice", "bob"]


def test_no_sites_is_the_implicit_one_with_the_pki_roles_certificate():
    site, = _sites.normalize(HOST)
    assert site["name"] == "mtls-nginx" and site["server_name"] == "www.example.org"
    assert site["dns_names"] == ["www2.example.org"] and site["listen_port"] == 443 and site["websocket"] is False
    assert (site["certificate"], site["private_key"]) == ("/pki/server/www.example.org.crt", "/pki/server/www.example.org.key")


def test_a_site_takes_what_it_leaves_out_from_the_single_site_variables():
    sites = [{"name": "grafana", "server_name": "grafana.internal", "websocket": True}]
    site, = _sites.normalize({**HOST, "mtls_sites": sites})
    assert site["listen_port"] == 443 and site["verify_client"] == "on" and site["websocket"] is True
    assert site["server_name"] == "grafana.internal" and site["dns_names"] == [] and site["default_server"] is False
    assert site["certificate"] == "/pki/server/grafana.internal.crt"


def test_a_site_with_its_own_certificate_keeps_it():
    sites = [{"name": "a", "server_name": "a.internal", "certificate": "/own/a.crt", "private_key": "/own/a.key"}]
    site, = _sites.normalize({**HOST, "mtls_sites": sites})
    assert (site["certificate"], site["private_key"]) == ("/own/a.crt", "/own/a.key")


def test_the_pki_role_issues_for_each_site_without_its_own_certificate():
    entries = _sites.fleet_entries({"mtls_sites": [{"name": "a", "server_name": "a.internal", "dns_names": ["b.internal"]},
                                                   {"name": "c", "server_name": "c.internal", "certificate": "/own.crt"}]})
    assert entries == [{"mtls_server_name": "a.internal", "mtls_server_dns_names": ["b.internal"],
                        "mtls_server_ip_addresses": [], "mtls_server_certificate": ""},
                       {"mtls_server_name": "c.internal", "mtls_server_dns_names": [], "mtls_server_ip_addresses": [],
                        "mtls_server_certificate": "/own.crt"}]


@pytest.mark.parametrize("sites, fragment", [
    ("grafana", "mtls_sites must be a list"),
    (["grafana"], "mtls_sites[0] must be a mapping"),
    ([{"name": "../etc", "server_name": "a.internal"}], "mtls_sites[0].name must be lowercase letters"),
    ([{"name": "A", "server_name": "a.internal"}], "mtls_sites[0].name must be lowercase letters"),
    ([{"name": "mtls-nginx", "server_name": "a.internal"}], "not 'mtls-nginx'"),
    ([{"name": "a", "server_name": "a.internal"}, {"name": "a", "server_name": "b.internal"}],
     "mtls_sites[1].name a is used again: mtls_sites[0] has it already"),
    ([{"name": "a", "server_name": "a.internal"}, {"name": "b", "server_name": "A.internal"}],
     "mtls_sites[1] (b).server_name A.internal on port 443 is mtls_sites[0]'s too"),
    ([{"name": "a", "server_name": "a.internal; include /etc/passwd"}], "mtls_sites[0] (a).server_name must be a host name"),
    ([{"name": "a", "server_name": "a.internal", "dns_names": ["b.internal;"]}],
     "mtls_sites[0] (a).dns_names: 'b.internal;' is not a host name"),
    ([{"name": "a", "server_name": "a.internal", "ip_addresses": ["10.0.0.300"]}],
     "mtls_sites[0] (a).ip_addresses: '10.0.0.300' is not an IP address"),
    ([{"name": "a", "server_name": "a.internal", "locations": [{"path": "/admin", "allow": ["mallory"]}]}],
     "mtls_sites[0] (a).locations[0].allow names 'mallory'"),
    ([{"name": "a", "server_name": "a.internal", "listen_port": 70000}], "mtls_sites[0] (a).listen_port must be a port"),
    ([{"name": "a", "server_name": "a.internal", "upstream": "http://x/;return 200"}], "mtls_sites[0] (a).upstream must be"),
    ([{"name": "a", "server_name": "a.internal", "verify_client": "off"}], "mtls_sites[0] (a).verify_client"),
    ([{"name": "a", "server_name": "a.internal", "websocket": "yes"}], "mtls_sites[0] (a).websocket must be true or false"),
    ([{"name": "a", "server_name": "a.internal", "servername": "x"}], "mtls_sites[0] (a) has unknown fields servername"),
    ([{"name": "a", "server_name": "a.internal", "certificate": "/a.crt"}],
     "mtls_sites[0] (a).certificate and private_key are given together"),
    ([{"name": "a", "server_name": "a.internal", "mode": "edit"}], "mtls_sites[0] (a).mode must be one of server, include"),
    ([{"name": "a", "server_name": "a.internal", "mode": "include", "upstream": "http://127.0.0.1:1"}],
     "mtls_sites[0] (a) is mode include, so the server block is yours: set upstream there"),
    ([{"name": "a", "server_name": "a.internal", "allow": ["mallory"]}], "mtls_sites[0] (a).allow names 'mallory'"),
    ([{"name": "a", "server_name": "a.internal", "allow": []}], "mtls_sites[0] (a).allow must be a non-empty list"),
    ([{"name": "a", "server_name": "a.internal", "allow": ["alice"], "verify_client": "optional",
       "locations": [{"path": "/status", "public": True}]}], "has an allow list for the whole site and public locations"),
    ([{"name": "a-b", "server_name": "a.internal"}, {"name": "a_b", "server_name": "b.internal"}],
     "mtls_sites[1].name a_b differs from mtls_sites[0]'s only in '-' and '_'"),
    ([{"name": "a", "server_name": "a.internal", "default_server": True},
      {"name": "b", "server_name": "b.internal", "default_server": True}],
     "mtls_sites[1] (b).default_server: mtls_sites[0] is port 443's default server already"),
])
def test_bad_sites_are_named_by_site_and_field(sites, fragment):
    found = _sites.errors(sites, CLIENTS)
    assert len(found) == 1 and fragment in found[0], found


PUBLIC_STATUS = [{"path": "/status", "public": True}]


@pytest.mark.parametrize("host, site, expected", [
    # (a) the host verifies optionally and the site has a public location of its own: fine.
    ({"mtls_verify_client": "optional"}, {"locations": PUBLIC_STATUS}, []),
    # (b) the host's public location, which a site that demands certificates would make certificate-only.
    ({"mtls_verify_client": "optional", "mtls_locations": PUBLIC_STATUS}, {"verify_client": "on"},
     ["mtls_sites[0] (a).locations (inherited from mtls_locations)[0] is public, which needs"
      " mtls_sites[0] (a).verify_client: optional"]),
    # (c) an allow list for the whole site and the host's public location, inherited.
    ({"mtls_verify_client": "optional", "mtls_locations": PUBLIC_STATUS}, {"allow": ["alice"]},
     ["mtls_sites[0] (a) has an allow list for the whole site and public locations (inherited from mtls_locations)"]),
    # ... which is refused just the same when the site writes it out in full.
    ({}, {"allow": ["alice"], "verify_client": "optional", "locations": PUBLIC_STATUS},
     ["mtls_sites[0] (a) has an allow list for the whole site and public locations;"]),
    # An included site has no locations of ours and always verifies, whatever the host sets.
    ({"mtls_verify_client": "optional", "mtls_locations": PUBLIC_STATUS}, {"mode": "include"}, []),
    ({"mtls_listen_port": 70000}, {}, ["mtls_sites[0] (a).listen_port (inherited from mtls_listen_port) must be a port"]),
])
def test_each_site_is_checked_as_resolved_with_the_hosts_settings(host, site, expected):
    found = _sites.errors([{"name": "a", "server_name": "a.internal", **site}], CLIENTS, host)
    assert len(found) == len(expected) and all(fragment in message for fragment, message in zip(expected, found)), found
    if not expected:  # and the server model gets the same merged site the check passed
        resolved, = _sites.normalize({**HOST, **host, "mtls_sites": [{"name": "a", "server_name": "a.internal", **site}]})
        assert resolved["verify_client"] == ("on" if site.get("mode") == "include" else host.get("mtls_verify_client", "on"))


def test_two_sites_on_one_port_with_their_own_names_are_fine():
    assert _sites.errors([{"name": "grafana", "server_name": "grafana.internal", "default_server": True},
                          {"name": "kibana", "server_name": "kibana.internal", "listen_port": 8443, "default_server": True,
                           "locations": [{"path": "/admin", "allow": ["alice"]}]}], CLIENTS) == []


def test_a_site_without_a_port_is_on_the_hosts_port():
    sites = [{"name": "grafana", "server_name": "grafana.internal", "default_server": True},
             {"name": "kibana", "server_name": "grafana.internal", "listen_port": 8443, "default_server": True}]
    assert _sites.errors(sites, CLIENTS, {"mtls_listen_port": 8443}) == [
        "mtls_sites[1] (kibana).server_name grafana.internal on port 8443 is mtls_sites[0]'s too: nginx would serve"
        " only one of them; give each site its own name or port",
        "mtls_sites[1] (kibana).default_server: mtls_sites[0] is port 8443's default server already; a port has one"]


@pytest.mark.parametrize("version, package, fixed", [
    ("1.22.1", "1.22.1-9", False),
    ("1.22.1", "1.22.1-9+deb12u1", True),
    ("1.22.1", "1.22.1-9+deb12u11", True),
    ("1.22.1", "1.22.1-9+deb12u0", False),
    ("1.22.1", "", False),
    ("1.24.0", "1.24.0-2ubuntu7", False),
    ("1.26.2", "", False),
    ("1.26.3", "1.26.3-3+deb13u1", True),
    ("1.27.3", "", False),
    ("1.27.4", "", True),
    ("1.28.0", "", True),
    ("", "", False),
])
def test_which_nginx_refuses_to_resume_a_session_on_another_server_block(version, package, fixed):
    assert _sites.sni_resumption_fixed(version, package) is fixed


@pytest.mark.parametrize("version, expected", [
    ("1.22.1", (1, 22, 1)), ("1.25.1", (1, 25, 1)), ("1.27.4.1", (1, 27, 4)), ("", ()), ("x", ()), (None, ())])
def test_version_tuple(version, expected):
    assert _sites.version_tuple(version) == expected


SITE_FILE = "/etc/nginx/conf.d/mtls-nginx.conf"
TLS_DIR = "/etc/nginx/mtls"
A = {"name": "a", "mode": "server", "listen_port": 443}
B = {"name": "b", "mode": "server", "listen_port": 443}
C = {"name": "c", "mode": "server", "listen_port": 8443}
LEGACY = {"name": "legacy", "mode": "include", "server_name": "legacy.test", "listen_port": 8443}
PUBLIC = {"ports": [443], "where": "/etc/nginx/conf.d/public.conf:1", "files": ["/etc/nginx/conf.d/public.conf"]}
OURS = [{"ports": [443], "where": f"{SITE_FILE}:40"}, {"ports": [8443], "where": f"{SITE_FILE}:90"}]
TEAMS = {"ports": [8443], "where": "/etc/nginx/conf.d/legacy.conf:1",
         "files": ["/etc/nginx/conf.d/legacy.conf", "/etc/nginx/mtls/sites/legacy.conf"]}
OLD = {"nginx_version": "1.22.1", "nginx_package": "1.22.1-9"}


@pytest.mark.parametrize("sites, servers, fact, expected", [
    ([A, C], OURS, OLD, []),  # each port one server block
    ([A, B], OURS, OLD, ["port 443 is shared by a, b, but nginx 1.22.1 (1.22.1-9) lacks the fix"]),
    ([A, C], OURS + [PUBLIC], OLD, ["port 443 is shared by a and the server at /etc/nginx/conf.d/public.conf:1"]),
    ([A, C], OURS + [{"ports": [80], "where": "/etc/nginx/sites-enabled/default:1"}], OLD, []),
    ([A, B], OURS + [PUBLIC], {"nginx_version": "1.22.1", "nginx_package": "1.22.1-9+deb12u11"}, []),
    ([A, B], OURS + [PUBLIC], {"nginx_version": "1.26.3", "nginx_package": ""}, []),
    ([A, B], [], {}, []),  # nginx is not installed yet: checked again once it is
    ([A, LEGACY], OURS[:1] + [TEAMS], OLD, []),  # the team's block that includes our snippet is the site itself
    ([A, C, LEGACY], OURS + [TEAMS], OLD, ["port 8443 is shared by c, legacy, but nginx 1.22.1"]),
    ([A], OURS[:1] + [TEAMS], {"nginx_version": "1.26.3"},
     ["the server block at /etc/nginx/conf.d/legacy.conf:1 includes /etc/nginx/mtls/sites/legacy.conf, the snippet of a"
      " site that mtls_sites no longer has"]),
])
def test_before_anything_changes(sites, servers, fact, expected):
    found = _sites.host_errors({**fact, "http_servers": servers}, sites, SITE_FILE, TLS_DIR)["before"]
    assert len(found) == len(expected) and all(fragment in message for fragment, message in zip(expected, found)), found


@pytest.mark.parametrize("servers, expected", [
    ([TEAMS], []),
    ([], ["mtls_sites legacy (mode include): no server block includes /etc/nginx/mtls/sites/legacy.conf, so that site"
          " is NOT protected: add 'include /etc/nginx/mtls/sites/legacy.conf;'"]),
    ([{**TEAMS, "ports": [443]}], ["mtls_sites legacy (mode include): listen_port is 8443, but the server block that"
                                   " includes /etc/nginx/mtls/sites/legacy.conf (/etc/nginx/conf.d/legacy.conf:1) listens on 443"]),
])
def test_an_included_site_must_be_included(servers, expected):
    found = _sites.host_errors({"nginx_version": "1.26.3", "http_servers": servers}, [A, LEGACY], SITE_FILE, TLS_DIR)["after"]
    assert len(found) == len(expected) and all(fragment in message for fragment, message in zip(expected, found)), found


def test_an_included_site_has_no_certificate_and_always_verifies():
    site, = _sites.normalize({**HOST, "mtls_verify_client": "optional",
                              "mtls_sites": [{"name": "legacy", "mode": "include", "server_name": "legacy.test"}]})
    assert (site["mode"], site["certificate"], site["verify_client"], site["upstream"]) == ("include", "", "on", "")
    assert _sites.fleet_entries({"mtls_sites": [{"name": "legacy", "mode": "include", "server_name": "legacy.test"}]}) == []


TEAM_FILE = "/etc/nginx/conf.d/legacy.conf"
SNIPPET = "/etc/nginx/mtls/sites/legacy.conf"
# The team's block as the fact script reads it when the include stands first (README's example).
INCLUDING = {**TEAMS, "names": ["legacy.test"], "plain": [],
             "rewrites": [["if", f"{SNIPPET}:7"], ["if", f"{SNIPPET}:12"], ["return", f"{TEAM_FILE}:9"]],
             "error_pages": [["495 =495 /.mtls-errors/495.html", f"{SNIPPET}:30"], ["500 502 /50x.html", f"{TEAM_FILE}:4"]]}
REDIRECT = {"ports": [80], "where": "/etc/nginx/conf.d/redirect.conf:1", "files": ["/etc/nginx/conf.d/redirect.conf"],
            "names": ["legacy.test"], "plain": ["/etc/nginx/conf.d/redirect.conf:2"],
            "rewrites": [["return", "/etc/nginx/conf.d/redirect.conf:4"]], "error_pages": []}


@pytest.mark.parametrize("servers, assignments, expected", [
    ([INCLUDING], [], []),
    ([INCLUDING, REDIRECT], [["$mtls_client_name", f"{SITE_FILE}:12"]], []),  # a redirect only; our own maps
    ([{**INCLUDING, "rewrites": [["rewrite", f"{TEAM_FILE}:5"], *INCLUDING["rewrites"]]}], [],
     [f"{TEAM_FILE}:5: 'rewrite' stands before 'include {SNIPPET};' in the server block at {TEAM_FILE}:1"]),
    ([{**INCLUDING, "rewrites": [["set", f"{TEAM_FILE}:5"], ["if", f"{TEAM_FILE}:6"], *INCLUDING["rewrites"]]}], [],
     [f"{TEAM_FILE}:5: 'set' stands before", f"{TEAM_FILE}:6: 'if' stands before"]),
    ([{**INCLUDING, "plain": [f"{TEAM_FILE}:3"]}], [],
     [f"{TEAM_FILE}:3: the server block that includes {SNIPPET} listens without TLS here"]),
    ([{**INCLUDING, "error_pages": [["403 = @fallback", f"{TEAM_FILE}:4"]]}], [],
     [f"{TEAM_FILE}:4: 'error_page 403 = @fallback' sends 403 to a named location"]),
    ([{**INCLUDING, "error_pages": [["404 403 /forbidden.html", f"{TEAM_FILE}:4"], ["404 = @app", f"{TEAM_FILE}:5"]]}], [],
     []),  # a URI runs the server level's checks again; 404 is not ours
    ([INCLUDING, {**REDIRECT, "rewrites": []}], [],
     ["/etc/nginx/conf.d/redirect.conf:1: this server block answers to legacy.test without 'include"]),
    ([INCLUDING, {**REDIRECT, "names": ["*.TEST"], "rewrites": [["if", "/r:3"], ["return", "/r:4"]]}], [],
     ["/etc/nginx/conf.d/redirect.conf:1: this server block answers to legacy.test without"]),  # a conditional return
    ([INCLUDING, {**REDIRECT, "names": ["~^legacy\\.", "other.test"], "rewrites": []}], [],
     ["/etc/nginx/conf.d/redirect.conf:1: this server block answers to legacy.test"]),
    ([INCLUDING, {**REDIRECT, "names": ["other.test", "~(", "_"], "rewrites": []}], [], []),
    ([INCLUDING, {**PUBLIC, "names": ["public.test"]}], [], []),
    ([INCLUDING], [["$mtls_client_name", f"{TEAM_FILE}:6"], ["$mtls_site_legacy_allowed", "/etc/nginx/nginx.conf:20"]],
     [f"{TEAM_FILE}:6: $mtls_client_name is a variable of mtls.nginx",
      "/etc/nginx/nginx.conf:20: $mtls_site_legacy_allowed is a variable of mtls.nginx"]),
])
def test_what_could_take_a_request_around_an_included_sites_checks_is_refused(servers, assignments, expected):
    fact = {"nginx_version": "1.26.3", "http_servers": servers, "assignments": assignments}
    found = _sites.host_errors(fact, [LEGACY], SITE_FILE, TLS_DIR)["before"]
    assert len(found) == len(expected) and all(fragment in message for fragment, message in zip(expected, found)), found


@pytest.mark.parametrize("pattern, name, expected", [
    ("legacy.test", "legacy.test", True), ("LEGACY.test", "legacy.test", True), ("legacy.test2", "legacy.test", False),
    ("*.test", "legacy.test", True), ("*.test", "test", False), (".legacy.test", "legacy.test", True),
    (".test", "a.test", True), ("legacy.*", "legacy.test", True), ("legacy.*", "legacy", False),
    ("~^leg", "legacy.test", True), ("~[", "legacy.test", False), ("", "legacy.test", False), ("_", "legacy.test", False),
])
def test_server_name_patterns_match_as_nginx_matches_them(pattern, name, expected):
    assert _sites.answers(pattern, name) is expected
