# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What one host's nginx is told, decided here: the templates only print this model.

Who may connect is decided once, in build(): each location and TCP service gets the serials of
the valid certificates whose names its allow list has (or is public). The TLS settings every
listener shares (server certificate, client CAs and CRL, protocols, resumption) are one dict.
"""
from __future__ import annotations

# Mozilla's server-side TLS recommendations (version 5.7).
TLS_PROTOCOLS = {"intermediate": "TLSv1.2 TLSv1.3", "modern": "TLSv1.3"}
TLS_CIPHERS = ":".join((
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"))
TLS_CURVES = "X25519:prime256v1:secp384r1"
# Who did what (audit): the server block's requests with the verified client's name and serial.
ACCESS_LOG = "/var/log/nginx/mtls-nginx-access.log"
# nginx 1.25.1 replaced "listen ... http2" by the "http2" directive.
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)


def listen(address, port):
    """nginx's listen value: an IPv6 address in brackets."""
    return f"[{address}]:{port}" if ":" in str(address) else f"{address}:{port}"


def version_tuple(version):
    """'1.22.1' -> (1, 22, 1); '' or anything unparsable -> ()."""
    try:
        return tuple(int(part) for part in str(version).split("."))
    except ValueError:
        return ()


def allowed_serials(certificates, allow):
    """The serials of the valid certificates whose name is on the allow list, exactly (ledger order)."""
    names = set(allow)
    return [certificate["serial"] for certificate in certificates if certificate["name"] in names]


def build(settings, certificates):
    """The server model of one host.

    settings: the host's variables under short names (server_name, listen_address, listen_port,
    upstream, send_certificate, locations, verify_client, verify_depth, tls_profile,
    session_timeout, keepalive_timeout, stream_services, nginx_version, tls_dir, www_dir), already
    checked by _inventory.server_errors. certificates: the valid certificates of every trusted client
    CA's ledger, [{serial, name, fingerprint_sha256}].
    """
    tls_dir = settings["tls_dir"]
    tls = {
        "certificate": f"{tls_dir}/server.crt", "private_key": f"{tls_dir}/server.key",
        "client_ca": f"{tls_dir}/ca.crt", "crl": f"{tls_dir}/crl.pem",
        "verify_depth": settings["verify_depth"], "protocols": TLS_PROTOCOLS[settings["tls_profile"]],
        "ciphers": TLS_CIPHERS, "curves": TLS_CURVES, "session_timeout": settings["session_timeout"],
    }
    # An optional certificate is demanded in every location that is not public.
    demand = settings["verify_client"] == "optional"
    restricted = [location for location in settings["locations"] or [] if "allow" in location]
    locations = [{"path": location["path"], "public": False, "require_certificate": demand,
                  "allowed": f"$mtls_allowed_{index}", "serials": allowed_serials(certificates, location["allow"])}
                 for index, location in enumerate(restricted, start=1)]
    locations += [{"path": location["path"], "public": True, "require_certificate": False}
                  for location in settings["locations"] or [] if location.get("public")]
    http = {
        "listen": listen(settings["listen_address"], settings["listen_port"]),
        "http2_directive": version_tuple(settings["nginx_version"]) >= HTTP2_DIRECTIVE_SINCE,
        "server_name": settings["server_name"], "verify_client": settings["verify_client"],
        "require_certificate": demand, "keepalive_timeout": settings["keepalive_timeout"],
        "upstream": settings["upstream"], "send_certificate": bool(settings["send_certificate"]),
        "root": f"{settings['www_dir']}/site", "errors": f"{settings['www_dir']}/errors/", "locations": locations,
        "access_log": ACCESS_LOG,
    }
    stream = [{"name": service["name"], "listen": listen(settings["listen_address"], service["listen_port"]),
               "upstream": service["upstream"], "serials": allowed_serials(certificates, service["allow"])}
              for service in settings["stream_services"] or []]
    names = [{"serial": c["serial"], "name": c["name"], "fingerprint": c["fingerprint_sha256"]} for c in certificates]
    return {"tls": tls, "http": http, "stream": stream, "certificates": names}
