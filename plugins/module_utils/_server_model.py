# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What one host's nginx is told, decided here: the templates only print this model.

Who may connect is decided once, in build(): each site's locations and each TCP service get the
keys (issuer and serial) of the valid certificates whose names their allow list has (or are public);
a certificate that chains to a trusted CA but whose issuer and serial no ledger of ours lists is
refused everywhere. The TLS settings
every listener shares (client CAs and CRL, protocols, resumption) are one dict; each site adds its
own server certificate.
"""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _deployment, _dn, _inventory, _sites

# Mozilla's server-side TLS recommendations (version 5.7).
TLS_PROTOCOLS = {"intermediate": "TLSv1.2 TLSv1.3", "modern": "TLSv1.3"}
TLS_CIPHERS = ":".join((
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"))
TLS_CURVES = "X25519:prime256v1:secp384r1"
# Who did what (audit): the server block's requests with the verified client's name and serial.
ACCESS_LOG = "/var/log/nginx/mtls-nginx-access.log"
# What every map matches a client certificate by: which of our CAs issued it (an id that the
# issuer map gives its name, as $ssl_client_i_dn prints it) and its serial. Only certificates
# that one of our ledgers lists have a key.
CLIENT_KEY = '"$mtls_client_issuer/$ssl_client_serial"'
# nginx 1.25.1 replaced "listen ... http2" by the "http2" directive.
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)


def listen(address, port):
    """nginx's listen value: an IPv6 address in brackets."""
    return f"[{address}]:{port}" if ":" in str(address) else f"{address}:{port}"


def issuers(certificates):
    """{issuer name: its id in the maps} of the certificates' issuers (names as nginx_dn prints them)."""
    return {issuer: f"ca{number}" for number, issuer in enumerate(dict.fromkeys(c["issuer"] for c in certificates), 1)}


def keyed(certificates):
    """The certificates, each with the key CLIENT_KEY gives for it (issuer id/serial)."""
    ids = issuers(certificates)
    return [{**certificate, "key": f"{ids[certificate['issuer']]}/{certificate['serial']}"} for certificate in certificates]


def allowed_keys(certificates, allow):
    """The keys of the (keyed) valid certificates whose name is on the allow list, exactly (ledger order)."""
    names = set(allow)
    return [certificate["key"] for certificate in certificates if certificate["name"] in names]


def site_model(site, settings, certificates, tls):
    """One site: its server block (mode server) or its snippet (mode include). The implicit site (no
    mtls_sites) keeps the names and paths the single server block always had; another site's files and
    map variables are named after it (stable when sites are added, removed or reordered, as a snippet
    that a team's server block includes must be)."""
    implicit = site["name"] == _sites.IMPLICIT
    tls_dir, www_dir = settings["tls_dir"], settings["www_dir"]
    certificate = f"{tls_dir}/server" if implicit else f"{tls_dir}/sites/{site['name']}"
    variable = f"$mtls_site_{_sites.variable_id(site['name'])}"
    prefix = "$mtls_allowed_" if implicit else f"{variable}_allowed_"
    # An optional certificate is demanded in every location that is not public.
    demand = site["verify_client"] == "optional"
    restricted = [location for location in site["locations"] or [] if "allow" in location]
    # A path covers itself and what lies below it, as path segments (matches: nginx's location arguments).
    locations = [{"path": location["path"], "matches": _inventory.location_matches(location["path"]), "public": False,
                  "require_certificate": demand, "allowed": f"{prefix}{number}",
                  "admitted": allowed_keys(certificates, location["allow"])}
                 for number, location in enumerate(restricted, start=1)]
    locations += [{"path": location["path"], "matches": _inventory.location_matches(location["path"]), "public": True,
                   "require_certificate": False}
                  for location in site["locations"] or [] if location.get("public")]
    include = site["mode"] == "include"
    # Who may use the site at all (allow), checked at the server level: included sites always carry the
    # check (their snippet names the variable whether or not the inventory gives a list).
    whole = None if site["allow"] is None and not include else {
        "denied": f"{variable}_denied", "allowed": f"{variable}_allowed",
        "admitted": None if site["allow"] is None else allowed_keys(certificates, site["allow"])}
    return {
        "name": site["name"], "mode": site["mode"],
        "snippet": _sites.snippet_path(tls_dir, site["name"]) if include else None,
        # An included site's server block has its own certificate: the snippet has only the checks.
        "tls": {key: value for key, value in tls.items() if key not in ("certificate", "private_key")} if include
        else {**tls, "certificate": f"{certificate}.crt", "private_key": f"{certificate}.key"},
        # The site's certificate and key on the host, from the control node's ([host path, source, mode]).
        # (The implicit site's are the host's server.crt and key, which the role installs for every host.)
        "files": [] if implicit or include else [[f"{certificate}.crt", site["certificate"]],
                                                 [f"{certificate}.key", site["private_key"], "0600"]],
        "allow": whole,
        "listen": listen(site["listen_address"], site["listen_port"]) + (" default_server" if site["default_server"] else ""),
        "port": site["listen_port"],
        "http2_directive": _sites.version_tuple(settings["nginx_version"]) >= HTTP2_DIRECTIVE_SINCE,
        "server_name": " ".join([site["server_name"]] + ([] if implicit else site["dns_names"])),
        "verify_client": site["verify_client"], "require_certificate": demand,
        "keepalive_timeout": settings["keepalive_timeout"], "upstream": site["upstream"],
        "websocket": bool(site["websocket"] and site["upstream"]), "send_certificate": bool(site["send_certificate"]),
        "root": f"{www_dir}/site", "errors": f"{www_dir}/errors/", "locations": locations,
        "access_log": ACCESS_LOG if implicit else f"/var/log/nginx/mtls-nginx-{site['name']}-access.log",
    }


def build(settings, certificates):
    """The server model of one host.

    settings: the host's variables under short names (sites, listen_address, verify_depth, tls_profile,
    session_timeout, keepalive_timeout, stream_services, nginx_version, tls_dir, www_dir, chain_depth), already
    checked by the inventory contract; sites as _sites.normalize gives them. certificates: the valid
    certificates of every trusted client CA's ledger, [{serial, name, fingerprint_sha256, issuer}].
    """
    paths = _deployment.host_paths({"tls_dir": settings["tls_dir"], "www_dir": settings["www_dir"]})
    certificates = keyed(certificates)
    tls = {
        "certificate": paths["certificate"], "private_key": paths["private_key"],
        "client_ca": paths["ca"], "crl": paths["crl"],
        # A client's chain below the trust anchor: 1 (one tier) or 2 (an issuing CA under a root).
        "verify_depth": max(settings["verify_depth"], settings.get("chain_depth", 1)), "protocols": TLS_PROTOCOLS[settings["tls_profile"]],
        "ciphers": TLS_CIPHERS, "curves": TLS_CURVES, "session_timeout": settings["session_timeout"],
    }
    sites = [site_model(site, settings, certificates, tls) for site in settings["sites"]]
    stream = [{"name": service["name"], "listen": listen(settings["listen_address"], service["listen_port"]),
               "upstream": service["upstream"], "admitted": allowed_keys(certificates, service["allow"])}
              for service in settings["stream_services"] or []]
    names = [{"key": c["key"], "name": c["name"], "fingerprint": c["fingerprint_sha256"]} for c in certificates]
    return {"client_key": CLIENT_KEY,
            "issuers": [{"pattern": _dn.map_pattern(name), "id": id_} for name, id_ in issuers(certificates).items()],
            "tls": tls, "sites": sites, "websocket": any(site["websocket"] for site in sites),
            "included": any(site["mode"] == "include" for site in sites), "identity_headers": paths["identity_headers"],
            "stream": stream, "certificates": names}
