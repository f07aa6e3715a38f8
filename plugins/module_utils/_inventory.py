# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Checks of the inventory contract that argument_specs cannot express; each message names its field."""
from __future__ import annotations

import ipaddress
import re

from ansible_collections.mtls.nginx.plugins.module_utils._common import EMAIL_RE, MIN_PASSPHRASE_LENGTH, SERVER_NAME_RE

NAME_RE = re.compile(r"^[A-Za-z0-9._-]+\Z")
LOCATION_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/-]*\Z")
UPSTREAM_RE = re.compile(r"^https?://[A-Za-z0-9.\-_\[\]:]+(/[A-Za-z0-9._~%/-]*)?\Z")
STREAM_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,32}\Z")
UPSTREAM_ADDRESS_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})\Z")
NGINX_TIME_RE = re.compile(r"^([0-9]{1,9}(ms|s|m|h|d|w|M|y)?){1,6}\Z")
KIT_URL_RE = re.compile(r"^https://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~%/-]*)?\Z")


def _is_host_name(value):
    return isinstance(value, str) and bool(SERVER_NAME_RE.match(value)) and len(value) <= 253


def _is_ip_address(value):
    """An IPv4 or IPv6 address without an IPv6 zone ("::1%eth0"): nginx's listen takes none, and
    Python's parser takes any characters after the %, line feeds included."""
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return getattr(address, "scope_id", None) is None


def normalize_clients(clients):
    """mtls_clients with each entry's defaults filled in: what both roles read."""
    return [{**client, "state": client.get("state") or "present", "csr": client.get("csr")} for client in clients or []]


def name_error(name, where):
    """Why name cannot be a client's name (an identity, a file name, a value in nginx maps), or None."""
    if not isinstance(name, str) or not NAME_RE.match(name) or name in (".", ".."):
        return f"{where} must be letters, digits, '.', '_' or '-' (it names files), got {name!r}"
    return None


def client_name_errors(clients):
    """Names that are not safe as file names, or repeat; each message names the entry.

    Names are identities: two that differ only in case are one name to nginx's map matching and
    to case-insensitive file systems, so they are refused like a repeat.
    """
    errors, seen = [], {}
    for index, client in enumerate(clients or []):
        if not isinstance(client, dict):
            continue  # client_errors says so
        name = client.get("name")
        where = f"mtls_clients[{index}]"
        if name_error(name, f"{where}.name"):
            errors.append(name_error(name, f"{where}.name"))
        elif name.lower() in seen:
            first, other = seen[name.lower()]
            if other == name:
                errors.append(f"{where} ({name}).name is used again: mtls_clients[{first}] has it already")
            else:
                errors.append(f"{where} ({name}).name differs from mtls_clients[{first}] ({other}) only in case;"
                              " nginx and some file systems treat them as one identity: rename one")
        else:
            seen[name.lower()] = (index, name)
    return errors


def passphrase_errors(client, where):
    """A bundle's passphrase: not empty, and none for a user who brings their own key (no bundle).
    Checked for the inventory (mtls_clients) and by the clients module (clients), with where."""
    if client.get("csr") is not None and client.get("p12_passphrase") is not None:
        return [f"{where} brings its own key (csr): there is no bundle to protect; remove p12_passphrase"]
    if client.get("p12_passphrase") == "":
        return [f"{where}.p12_passphrase is empty: give one, or leave the field out to have one generated (a bundle's"
                " passphrase must not be empty: it protects the private key inside)"]
    return []


def client_errors(clients):
    """Problems in mtls_clients that the role's argument_specs cannot express, each naming the entry and field.

    argument_specs owns the fields, their types and choices (state, revoke_reason); these are the
    rules across entries and of values: names, e-mail addresses, day ranges, empty passphrases.
    """
    errors = client_name_errors(clients)
    for index, client in enumerate(clients or []):
        if not isinstance(client, dict):
            errors.append(f"mtls_clients[{index}] must be a mapping with at least a name")
            continue
        name = client.get("name")
        where = f"mtls_clients[{index}]" + (f" ({name})" if isinstance(name, str) and NAME_RE.match(name) else "")
        if client.get("csr") is not None and (
                not isinstance(client["csr"], str) or "-----BEGIN CERTIFICATE REQUEST-----" not in client["csr"]):
            errors.append(f"{where}.csr must be a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----),"
                          " for example \"{{{{ lookup('file', 'csr/{name}.csr') }}}}\"".format(name=name))
        else:
            errors += passphrase_errors(client, where)
        email = client.get("email")
        if email is not None and not (isinstance(email, str) and EMAIL_RE.match(email)):
            errors.append(f"{where}.email must look like user@example.org, got {email!r}")
        for field, least in (("valid_days", 1), ("renew_before_days", 0)):
            value = client.get(field)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
                errors.append(f"{where}.{field} must be a whole number of days, at least {least}; got {value!r}")
    return errors


def fleet(hosts, fallback):
    """The servers the pki role issues certificates for: [{name, dns_names, ip_addresses}].

    hosts: each nginx host's settings {mtls_server_name, mtls_server_dns_names,
    mtls_server_ip_addresses, mtls_server_certificate} (what it leaves out comes from fallback,
    the control node's own). A host with its own certificate gets none; hosts sharing a server
    name share one certificate carrying all their names and addresses. No hosts at all: the
    control node's own settings, as for a PKI-only run.
    """
    servers = {}
    for host in hosts or [fallback]:
        settings = {**fallback, **{key: value for key, value in host.items() if value is not None}}
        if settings.get("mtls_server_certificate"):
            continue
        name = settings.get("mtls_server_name")
        entry = servers.setdefault(name, {"name": name, "dns_names": [], "ip_addresses": []})
        for field, key in (("dns_names", "mtls_server_dns_names"), ("ip_addresses", "mtls_server_ip_addresses")):
            entry[field] += [value for value in settings.get(key) or [] if value not in entry[field]]
    return list(servers.values())


def fleet_errors(servers, field=lambda index, name: f"servers[{index}].{name}"):
    """Problems in a list of servers [{name, dns_names, ip_addresses}]: names that are not host names,
    addresses that are not IP addresses, a name listed twice (a server without "name": its addresses only).
    field(index, name) says a server's field as the caller's input names it."""
    errors, seen = [], set()
    for index, server in enumerate(servers or []):
        name = server.get("name")
        if "name" not in server:
            pass
        elif not _is_host_name(name):
            errors.append(f"{field(index, 'name')} must be a host name such as www.example.org, got {name!r}")
        elif name.lower() in seen:
            errors.append(f"{field(index, 'name')} {name} is listed twice; give each server name once")
        else:
            seen.add(name.lower())
        for dns in server.get("dns_names") or []:
            if not isinstance(dns, str) or not SERVER_NAME_RE.match(dns):
                errors.append(f"{field(index, 'dns_names')}: {dns!r} is not a host name")
        for address in server.get("ip_addresses") or []:
            if not _is_ip_address(address):
                errors.append(f"{field(index, 'ip_addresses')}: {address!r} is not an IP address")
    return errors


def short_passphrases(clients):
    """Names of the clients whose inventory p12_passphrase is short (never the passphrases themselves)."""
    return [c["name"] for c in clients or [] if isinstance(c, dict) and c.get("p12_passphrase")
            and len(c["p12_passphrase"]) < MIN_PASSPHRASE_LENGTH]


def allow_errors(where, allow, client_names=None):
    """An allow list that is not a non-empty list of client names, or (client_names given) names one
    that mtls_clients does not have, exactly."""
    if not isinstance(allow, list) or not allow or not all(isinstance(n, str) and NAME_RE.match(n) for n in allow):
        return [f"{where}.allow must be a non-empty list of client names, got {allow!r}"]
    known = {name.lower(): name for name in client_names or ()}
    errors = []
    for name in allow if client_names is not None else ():
        if name not in client_names:
            hint = f" (mtls_clients has {known[name.lower()]!r}: names match exactly)" if name.lower() in known else ""
            errors.append(f"{where}.allow names {name!r}, which is not in mtls_clients{hint}")
    return errors


def stream_errors(services, http_port=443, client_names=()):
    """Problems in mtls_stream_services: [{name, listen_port, upstream (host:port), allow: [client names]}].

    Everything lands in nginx's stream configuration: names become map and upstream names, so
    each value is checked as strictly as the HTTP server's; ports may collide neither with the
    HTTP listener nor with each other.
    """
    if not isinstance(services, list):
        return [f"mtls_stream_services must be a list of services, got {services!r}"]
    errors, names, ports = [], set(), {http_port: "mtls_listen_port"}
    for index, service in enumerate(services):
        where = f"mtls_stream_services[{index}]"
        if not isinstance(service, dict):
            errors.append(f"{where} must be a mapping with name, listen_port, upstream and allow")
            continue
        name, port, upstream, allow = (service.get(key) for key in ("name", "listen_port", "upstream", "allow"))
        if not isinstance(name, str) or not STREAM_NAME_RE.match(name):
            errors.append(f"{where}.name must be letters, digits and '_' (at most 32), got {name!r}")
        elif name in names:
            errors.append(f"{where}.name {name} is used twice")
        names.add(name)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            errors.append(f"{where}.listen_port must be a port number from 1 to 65535, got {port!r}")
        elif port in ports:
            errors.append(f"{where}.listen_port {port} is taken by {ports[port]}; give each service its own port")
        else:
            ports[port] = f"{where}.listen_port"
        match = UPSTREAM_ADDRESS_RE.match(upstream) if isinstance(upstream, str) else None
        if not match or not 1 <= int(match.group(2)) <= 65535:
            errors.append(f"{where}.upstream must be host:port such as 127.0.0.1:6379 or redis.internal:6379, got {upstream!r}")
        errors += allow_errors(where, allow, client_names)
        unknown = sorted(set(service) - {"name", "listen_port", "upstream", "allow"})
        if unknown:
            errors.append(f"{where} has unknown fields {', '.join(unknown)}; check their spelling")
    return errors


def location_base(path):
    """A location path without its trailing slash: /status and /status/ both cover /status and /status/...,
    never /status-internal (nginx's prefix match would)."""
    return path.rstrip("/")


def location_matches(path):
    """The nginx location arguments that cover a path as a path segment: the path itself and what lies below it."""
    return [f"= {location_base(path)}", f"{location_base(path)}/"]


def location_errors(locations, verify_client="on", client_names=None):
    """Problems in mtls_locations: [{path, allow: [client names]} or {path, public: true}].

    client_names, when given: the names in mtls_clients; an allow entry must be one of them, exactly.
    """
    errors, seen = [], set()
    for index, location in enumerate(locations or []):
        where = f"mtls_locations[{index}]"
        if not isinstance(location, dict):
            errors.append(f"{where} must be a mapping with a path and an allow list")
            continue
        path = location.get("path")
        if not isinstance(path, str) or not LOCATION_PATH_RE.match(path) or path.strip("/") == "" \
                or "//" in path or set(path.split("/")) & {".", ".."}:
            errors.append(f"{where}.path must be a URL path below / such as /admin (letters, digits, . _ ~ - /; no empty,"
                          f" . or .. segment, which nginx's normalized URIs never have), got {path!r}")
        elif location_base(path) in seen:
            errors.append(f"{where}.path {path} is listed twice (a path covers itself and what lies below it: /a and /a/"
                          " are one)")
        else:
            seen.add(location_base(path))
        allow, public = location.get("allow"), location.get("public", False)
        if public is not False and public is not True:
            errors.append(f"{where}.public must be true or false, got {public!r}")
        elif public and allow is not None:
            errors.append(f"{where} is public (no certificate needed) and has an allow list; choose one")
        elif public and verify_client != "optional":
            errors.append(f"{where} is public, which needs mtls_verify_client: optional (now {verify_client!r})")
        elif not public:
            errors += allow_errors(where, allow, client_names)
        unknown = sorted(set(location) - {"path", "allow", "public"})
        if unknown:
            errors.append(f"{where} has unknown fields {', '.join(unknown)}; check their spelling")
    return errors


def server_errors(server_name, listen_port=443, listen_address="*", upstream="", locations=None, verify_client="on",
                  clients=None, kit_url="", times=None, stream_services=None):
    """Problems in the server variables; they end up in nginx syntax, so nothing may inject directives.

    clients: mtls_clients, when the allow lists of locations are to be checked against it.
    kit_url: mtls_client_kit_url, the link in every user's README.html: an https URL, nothing else.
    times: {variable: value} of nginx time values (1h, 75s, 1h30m).
    stream_services: mtls_stream_services (see stream_errors).
    """
    names = None if clients is None else [c.get("name") for c in clients if isinstance(c, dict)]
    errors = location_errors(locations, verify_client, names)
    if not _is_host_name(server_name):
        errors.append(f"mtls_server_name must be a host name such as www.example.org, got {server_name!r}")
    if not isinstance(listen_port, int) or isinstance(listen_port, bool) or not 1 <= listen_port <= 65535:
        errors.append(f"mtls_listen_port must be a port number from 1 to 65535, got {listen_port!r}")
    if listen_address != "*" and not _is_ip_address(listen_address):
        errors.append(f"mtls_listen_address must be '*' or an IP address such as 127.0.0.1, got {listen_address!r}")
    if upstream and not (isinstance(upstream, str) and UPSTREAM_RE.match(upstream)):
        errors.append(f"mtls_upstream must be an http(s) URL such as http://127.0.0.1:8080, got {upstream!r}")
    if kit_url and not (isinstance(kit_url, str) and KIT_URL_RE.match(kit_url)):
        errors.append(f"mtls_client_kit_url must be an https URL such as https://www.example.org/, got {kit_url!r}")
    if stream_services:
        errors += stream_errors(stream_services, listen_port, names or [])
    for variable, value in (times or {}).items():
        if not (isinstance(value, str) and NGINX_TIME_RE.match(value)):
            errors.append(f"{variable} must be an nginx time such as 1h, 75s or 1h30m, got {value!r}")
    return errors


def session_hazard_errors(hazards, listen_port=443, stream_services=None):
    """What in the host's nginx configuration would let a revoked client resume a session on our ports.

    hazards: the local fact's session_hazards ({context, ports, what, where}; ports None: every
    server of the context). listen_port: the HTTP port, or the list of our sites' ports. Only hazards on a port the mTLS server or one of its TCP services
    listens on matter (the first server on a port holds the session cache and ticket keys of all).
    """
    ours = {"http": set(listen_port) if isinstance(listen_port, list) else {listen_port},
            "stream": {s.get("listen_port") for s in stream_services or [] if isinstance(s, dict)}}
    errors = []
    for hazard in hazards or []:
        ports = ours.get(hazard.get("context"), set())
        if not ports or (hazard.get("ports") is not None and not ports & set(hazard["ports"])):
            continue
        if str(hazard.get("what")).startswith("unreadable: "):
            message = (f"the host's nginx configuration cannot be read as nginx reads it ({hazard['what'][12:]} at"
                       f" {hazard.get('where')}), so the role cannot tell whether a setting there keeps TLS sessions"
                       " across the reload that installs a new CRL: fix it (nginx -t names the same place) and run again")
            errors += [] if message in errors else [message]
            continue
        scope = (f"the {hazard['context']} block, so every server there inherits it" if hazard.get("ports") is None
                 else f"a server on port {', '.join(str(p) for p in sorted(ports & set(hazard['ports'])))}, which the"
                      " mTLS server shares: the first server on a port holds the session cache and ticket keys of all")
        fix = ("remove it" if hazard.get("what") == "ssl_session_ticket_key" else "set ssl_session_cache off there")
        errors.append(
            f"{hazard.get('what')} at {hazard.get('where')} ({scope}) keeps TLS sessions across the reload that"
            f" installs a new CRL, so a revoked client could resume without a certificate check: {fix}"
            + ("" if hazard.get("ports") is None else ", or give the mTLS server a port of its own"))
    return errors
