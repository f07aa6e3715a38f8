# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The inventory contract: the variables as written in, every problem (naming the inventory host and
variable) and the normalized model both roles read out. One home for each rule the roles share."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _inventory, _rollover, _sites

# What each nginx host says about its server certificate (the rest falls back to the control node's).
FLEET_VARIABLES = ("mtls_server_name", "mtls_server_dns_names", "mtls_server_ip_addresses", "mtls_server_certificate",
                   "mtls_server_private_key", "mtls_sites", "mtls_listen_port", "mtls_listen_address", "mtls_upstream",
                   "mtls_upstream_send_certificate", "mtls_locations", "mtls_verify_client")


# The listener's settings under the server model's names (see _server_model.build).
LISTENER = {"server_name": "mtls_server_name", "listen_address": "mtls_listen_address", "listen_port": "mtls_listen_port",
            "upstream": "mtls_upstream", "send_certificate": "mtls_upstream_send_certificate",
            "locations": "mtls_locations", "verify_client": "mtls_verify_client", "verify_depth": "mtls_ssl_verify_depth",
            "tls_profile": "mtls_tls_profile", "session_timeout": "mtls_ssl_session_timeout",
            "keepalive_timeout": "mtls_keepalive_timeout", "stream_services": "mtls_stream_services"}


def server_url(server_name, port):
    """What a browser opens: https://name/ on port 443, https://name:port/ elsewhere."""
    return f"https://{server_name}/" if port == 443 else f"https://{server_name}:{port}/"


def device_trust(own_certificate, own_ca_certificate, pki_server_ca):
    """The CA file a user's device must trust for a server's certificate: the pki role's server CA when
    it issues the certificate, else the CA the team names for their own (empty: a public CA, the
    system's trust store)."""
    return own_ca_certificate or "" if own_certificate else pki_server_ca


def clients_view(clients):
    """What the roles read of mtls_clients (normalized: state present unless said otherwise)."""
    clients = _inventory.normalize_clients([client for client in clients or [] if isinstance(client, dict)])
    present = [client for client in clients if client["state"] == "present"]
    return {
        "clients": clients,
        "present": [client["name"] for client in present],
        "absent": [client["name"] for client in clients if client["state"] == "absent"],
        # What the clients module issues from: each present user without state and revoke reason.
        "issue": [{k: v for k, v in client.items() if k not in ("state", "revoke_reason")} for client in present],
        # What the crl module revokes from: never a passphrase.
        "revocation": [{k: client[k] for k in ("name", "state", "revoke_reason") if k in client} for client in clients],
        # Who proves a rollout from the control node: the first present user whose key is there.
        "verify_name": next((client["name"] for client in present if not client["csr"]), ""),
    }


def fleet_errors(hosts, fallback, client_names=()):
    """Each nginx host's own server names and addresses, checked as its inventory writes them.

    hosts: {inventory host: its FLEET_VARIABLES}. The messages name the host and the variable; a
    server name that differs from another host's only in case is refused (one name to TLS).
    """
    errors, seen = [], {}
    for host, own in (hosts or {}).items():
        settings = {**fallback, **{key: value for key, value in own.items() if value is not None}}
        if settings.get("mtls_server_certificate"):
            continue
        where = f"host {host}: "
        found = _inventory.fleet_errors([{"name": settings.get("mtls_server_name"),
                                          "dns_names": settings.get("mtls_server_dns_names") or [],
                                          "ip_addresses": settings.get("mtls_server_ip_addresses") or []}],
                                        lambda _index, field: f"mtls_server_{field}")
        errors += [where + error for error in found]
        # A host's sites, checked here too: their names fence the server CA the pki role makes first.
        errors += [where + error for error in _sites.errors(own.get("mtls_sites"), client_names, settings)]
        name = settings.get("mtls_server_name")
        if found or not isinstance(name, str):
            continue
        other = seen.setdefault(name.lower(), (host, name))
        if other[1] != name:
            errors.append(f"{where}mtls_server_name {name} differs from host {other[0]}'s {other[1]} only in case;"
                          " hosts that share a server name must spell it alike")
    return errors


def fleet_servers(hosts, fallback):
    """The server certificates the pki role issues (see _inventory.fleet): each nginx host's own
    server name (its TCP services' certificate) and each of its sites' names. hosts: {inventory host:
    its FLEET_VARIABLES}."""
    return _inventory.fleet([entry for own in (hosts or {}).values() for entry in [own, *_sites.fleet_entries(own)]],
                            fallback)


def own_certificate_errors(variables, fleet_hosts=None):
    """A server certificate the team brings comes with its key; a CA for such certificates, with one."""
    errors = []
    for host, own in {"": variables, **(fleet_hosts or {})}.items():
        if bool(own.get("mtls_server_certificate")) != bool(own.get("mtls_server_private_key")):
            errors.append(("" if host == "" else f"host {host}: ") + "mtls_server_certificate and mtls_server_private_key"
                          " are given together, or both left empty for the pki role to issue one")
    brought = [own for own in [variables, *(fleet_hosts or {}).values()] if own.get("mtls_server_certificate")]
    if fleet_hosts is not None and variables.get("mtls_server_ca_certificate") and not brought:
        errors.append("mtls_server_ca_certificate is the CA of your own server certificates, but no host in"
                      " nginx_mtls_servers (nor the control node) sets mtls_server_certificate; without one the pki role"
                      " issues the server certificates from its own server CA: set mtls_server_certificate per host,"
                      " or leave mtls_server_ca_certificate empty")
    return errors


def contract(variables, role, fleet_hosts=None, host="", pki_server_ca=""):
    """The inventory contract of one play host, for the pki or the server role.

    variables: its mtls_* variables as the play sees them (the role's defaults filled in).
    fleet_hosts: for the pki role, {inventory host: its FLEET_VARIABLES} of nginx_mtls_servers
    ({}: no such group, the play host's own settings, host, count). pki_server_ca: the path of the
    pki role's server CA certificate. Returns the problems ("errors", which the roles check before
    anything else) and the model: for the server role its listener's settings, the URLs its verify
    step requests and its own certificate's paths; for the pki role the clients view, kit_url,
    kit_trust, fleet and server_names.
    """
    get = variables.get
    port = get("mtls_listen_port", 443)
    view = clients_view(get("mtls_clients"))
    names = [client["name"] for client in view["clients"]]
    errors = _inventory.client_errors(get("mtls_clients")) + own_certificate_errors(
        variables, fleet_hosts if role == "pki" else None)
    if role == "server":
        # The listener: everything in it lands in nginx's configuration.
        errors += _inventory.server_errors(
            get("mtls_server_name"), port, get("mtls_listen_address"), get("mtls_upstream"), get("mtls_locations"),
            get("mtls_verify_client"), get("mtls_clients"),
            times={name: get(name) for name in ("mtls_ssl_session_timeout", "mtls_keepalive_timeout", "mtls_worker_shutdown_timeout")
                   if name != "mtls_worker_shutdown_timeout" or get(name)},
            stream_services=get("mtls_stream_services"))
        site_errors = _sites.errors(get("mtls_sites"), names, variables)
        errors += site_errors
    else:
        errors += _inventory.server_errors(get("mtls_server_name"), port, kit_url=get("mtls_client_kit_url", ""))
        errors += _rollover.stage_errors(get("mtls_ca_rollover"), get("mtls_ca_rollover_reissue"), get("mtls_ca"),
                                         get("mtls_ca_next"))
        errors += _rollover.root_errors(get("mtls_root_ca"), get("mtls_ca"), get("mtls_ca_next"))
        errors += [error for variable in ("mtls_ca", "mtls_ca_next")
                   for error in _rollover.source_errors(variable, get(variable), get("mtls_root_ca"))]
        fallback = {key: get(key) for key in FLEET_VARIABLES}
        errors += fleet_errors(fleet_hosts or {host: {}}, fallback, names)
    model = {"errors": errors, **view}
    if role == "server":
        sites = [] if site_errors else _sites.normalize(variables)
        # A TCP service may not take a port a site listens on (nginx could not bind both).
        site_ports = {site["listen_port"]: site["name"] for site in sites if site["listen_port"] != port}
        errors += [f"mtls_stream_services[{index}].listen_port {service['listen_port']} is mtls_sites"
                   f" {site_ports[service['listen_port']]}'s; give the service a port of its own"
                   for index, service in enumerate(get("mtls_stream_services") or [])
                   if isinstance(service, dict) and service.get("listen_port") in site_ports]
        # What the verify step requests: each site's URL, checked against the CA devices trust for it, as
        # the first present user whose key is on the control node and whom the site's allow list admits
        # ("" where none is: then only the refusal without a certificate is proven).
        provers = [client["name"] for client in view["clients"] if client["state"] == "present" and not client["csr"]]
        verify = [{"url": server_url(site["server_name"], site["listen_port"]),
                   "trust": site["ca_certificate"] if site["mode"] == "include"
                   else device_trust(site["brought"], get("mtls_server_ca_certificate"), pki_server_ca),
                   "user": next((name for name in provers if site["allow"] is None or name in site["allow"]), "")}
                  for site in sites]
        # The server role keeps its contract as a fact, which -vvv prints: nothing secret goes in it (the
        # clients with their passphrases and requests are the pki role's).
        certificate, private_key = _sites.certificate_files(get("mtls_pki_dir"), get("mtls_server_name"),
                                                            get("mtls_server_certificate"), get("mtls_server_private_key"))
        return {**{key: value for key, value in model.items() if key not in ("clients", "issue", "revocation")},
                "verify": verify,
                # The host's own certificate (its TCP services'; the implicit site's): paths on the control node.
                "certificate": certificate, "private_key": private_key,
                "listener": {**{name: get(variable) for name, variable in LISTENER.items()}, "sites": sites}}
    fleet = fleet_servers(fleet_hosts, fallback)
    return {
        **model,
        "kit_url": get("mtls_client_kit_url") or server_url(get("mtls_server_name"), port),
        # The CA every user's kit carries: the server CA when the pki role issues for any host.
        "kit_trust": pki_server_ca if fleet else get("mtls_server_ca_certificate") or "",
        "fleet": fleet,
        # What the server CA may vouch for: every name and address of the fleet.
        "server_names": list(dict.fromkeys(
            [server["name"] for server in fleet] + [name for server in fleet for name in server["dns_names"]]
            + [address for server in fleet for address in server["ip_addresses"]])),
    }
