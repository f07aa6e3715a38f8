"""What one host gets: its paths, directories, files, removals and whether the bootstrap runs."""
import base64

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _deployment as D

PATHS = D.host_paths({"tls_dir": "/etc/nginx/mtls", "www_dir": "/www", "check_script": "/lib/check-site",
                      "fact_script": "/facts.d/mtls_nginx.fact", "nginx_binary": "/usr/sbin/nginx",
                      "site_path": "/etc/nginx/conf.d/mtls-nginx.conf", "stream_path": "/etc/nginx/m/90-stream.conf",
                      "main_path": "/etc/nginx/m/90-main.conf", "included_log_path": "/etc/nginx/conf.d/00-log.conf",
                      "default_sites": ["/etc/nginx/sites-enabled/default"], "pid_file": "/run/nginx.pid"})
IMPLICIT = {"name": "mtls-nginx", "mode": "server", "files": []}
GRAFANA = {"name": "grafana", "mode": "server",
           "files": [["/etc/nginx/mtls/sites/grafana.crt", "/pki/grafana.crt"], ["/etc/nginx/mtls/sites/grafana.key", "/pki/grafana.key", "0600"]]}
LEGACY = {"name": "legacy", "mode": "include", "snippet": "/etc/nginx/mtls/sites/legacy.conf", "files": []}


def model(*sites, websocket=False):
    return {"sites": list(sites) or [IMPLICIT], "included": any(site["mode"] == "include" for site in sites),
            "websocket": websocket}


def read(path):
    return f"<{path}>".encode()


def inputs(**overrides):
    return {"trust": {"certificates": ["/pki/ca.crt", "/pki/root.crt"], "crls": ["/pki/crl.pem", "/pki/root.crl"]},
            "certificate": "/pki/server.crt", "private_key": "/pki/server.key", "metrics": None, "role_files": "/role/files",
            "nginx_version": "1.22.1", "shutdown_timeout": "10s",
            "rendered": {"site": "server {}\n", "stream": "stream {}\n", "included_log": "log_format x;\n",
                         "identity": "proxy_set_header X 1;\n", "snippets": {"legacy": "if ($x) {}\n"}},
            "stream": {"wanted": False, "module": False, "installed": False}, **overrides}


def files(the_model, **overrides):
    return {entry["path"]: {**entry, "content": base64.b64decode(entry["content"]).decode()}
            for entry in D.files(the_model, PATHS, inputs(**overrides), read)}


def test_every_path_the_role_uses_is_named_once():
    assert (PATHS["ca"], PATHS["crl"], PATHS["certificate"], PATHS["private_key"], PATHS["identity_headers"]) == (
        "/etc/nginx/mtls/ca.crt", "/etc/nginx/mtls/crl.pem", "/etc/nginx/mtls/server.crt", "/etc/nginx/mtls/server.key",
        "/etc/nginx/mtls/identity-headers.conf")


def test_the_files_of_a_plain_host_in_the_order_they_are_written():
    found = files(model())
    assert list(found) == ["/etc/nginx/mtls/crl.pem", "/etc/nginx/mtls/ca.crt", "/etc/nginx/mtls/server.crt",
                           "/etc/nginx/mtls/server.key", "/lib/check-site", "/facts.d/mtls_nginx.fact",
                           *(f"/www/{page}" for page in D.PAGES), PATHS["site_path"]]
    assert found["/etc/nginx/mtls/crl.pem"]["content"] == "</pki/crl.pem></pki/root.crl>"  # every trusted CA's CRL
    assert found["/etc/nginx/mtls/server.key"]["mode"] == "0600" and found["/lib/check-site"]["mode"] == "0755"
    assert "mode" not in found["/www/site/index.html"]
    assert found[PATHS["site_path"]]["validate"] == f"/lib/check-site %s {PATHS['site_path']}" and found[PATHS["site_path"]]["diff"]


def test_without_nginx_the_configuration_waits():
    assert not [path for path in files(model(), nginx_version="") if path.startswith("/etc/nginx/conf.d")]


def test_sites_included_sites_websockets_and_tcp_services_bring_their_files():
    found = files(model(GRAFANA, LEGACY, websocket=True), stream={"wanted": True, "module": True, "installed": False},
                  metrics={"path": "/metrics/mtls_nginx.prom", "text": "mtls 1\n"})
    assert list(found)[:2] == ["/etc/nginx/mtls/crl.pem", "/metrics/mtls_nginx.prom"]
    assert found["/etc/nginx/mtls/sites/grafana.key"] == {"path": "/etc/nginx/mtls/sites/grafana.key",
                                                          "content": "</pki/grafana.key>", "mode": "0600"}
    assert list(found)[-5:] == [PATHS["included_log_path"], LEGACY["snippet"], PATHS["identity_headers"], PATHS["main_path"],
                                PATHS["stream_path"]]
    assert found[LEGACY["snippet"]]["content"] == "if ($x) {}\n" and found[LEGACY["snippet"]]["diff"]
    assert found[PATHS["main_path"]]["content"] == ("# Managed by mtls.nginx.server: local changes are overwritten.\n"
                                                    "worker_shutdown_timeout 10s;\n")


@pytest.mark.parametrize("stream, written", [
    ({"wanted": True, "module": False, "installed": False}, False),  # bootstrap installs the module first
    ({"wanted": True, "module": False, "installed": True}, True),  # nginx -t names what is still missing
    ({"wanted": False, "module": True, "installed": False}, False),
])
def test_the_tcp_services_file_once_nginx_has_its_module(stream, written):
    assert (PATHS["stream_path"] in files(model(), stream=stream)) is written


@pytest.mark.parametrize("the_model, stream, timeout, disable, expected", [
    (model(), False, "10s", True, ["/etc/nginx/sites-enabled/default", PATHS["stream_path"], PATHS["main_path"],
                                   PATHS["identity_headers"], PATHS["included_log_path"]]),
    (model(GRAFANA, LEGACY, websocket=True), True, "10s", False, []),
    (model(GRAFANA, websocket=True), True, "", False, [PATHS["main_path"], PATHS["identity_headers"], PATHS["included_log_path"]]),
])
def test_what_the_host_must_not_have(the_model, stream, timeout, disable, expected):
    assert D.removals(PATHS, the_model, stream, timeout, disable) == expected


@pytest.mark.parametrize("host, version, stream, module, expected", [
    ({"deferred": [], "probed": {"/usr/sbin/nginx": True}, "changed_paths": []}, "1.22.1", False, False, False),
    ({"deferred": ["/x"], "probed": {"/usr/sbin/nginx": True}, "changed_paths": []}, "1.22.1", False, False, True),
    ({"deferred": [], "probed": {"/usr/sbin/nginx": False}, "changed_paths": []}, "1.22.1", False, False, True),
    ({"deferred": [], "probed": {"/usr/sbin/nginx": True}, "changed_paths": []}, "", False, False, True),
    ({"deferred": [], "probed": {"/usr/sbin/nginx": True}, "changed_paths": []}, "1.22.1", True, False, True),
    ({"deferred": [], "probed": {"/usr/sbin/nginx": True}, "changed_paths": ["/facts.d/mtls_nginx.fact"]}, "1.22.1", False,
     False, True),
])
def test_the_bootstrap_runs_only_when_the_converge_could_not_finish(host, version, stream, module, expected):
    assert D.bootstrap(host, PATHS, version, stream, module) is expected


def test_what_the_control_node_lacks_is_named():
    trust = {"certificates": ["/pki/ca.crt"], "crls": ["/pki/crl.pem"]}
    sites = [{"certificate": "/pki/a.crt", "private_key": "/pki/a.key"}, {"certificate": "", "private_key": ""}]
    present = {"/pki/ca.crt", "/pki/a.crt", "/pki/server.crt", "/pki/server.key"}
    assert D.pki_missing(trust, [{"ledger": "/pki/ledger.json"}], "/pki/server.crt", "/pki/server.key", sites,
                         present.__contains__) == ["/pki/crl.pem", "/pki/ledger.json", "/pki/a.key"]
