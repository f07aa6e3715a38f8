# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Checks of the inventory contract that argument_specs cannot express; each message names its field."""
from __future__ import annotations

import ipaddress
import re

from ansible_collections.mtls.nginx.plugins.module_utils._common import EMAIL_RE, REVOKE_REASONS

CLIENT_STATES = ("present", "revoked", "absent")
CLIENT_FIELDS = {"name", "common_name", "email", "valid_days", "renew_before_days", "state", "p12_passphrase",
                 "revoke_reason"}
NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
HOST_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
SERVER_NAME_RE = re.compile(rf"^(\*\.)?{HOST_LABEL}(\.{HOST_LABEL})*$")
LOCATION_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/-]*$")
UPSTREAM_RE = re.compile(r"^https?://[A-Za-z0-9.\-_\[\]:]+(/[A-Za-z0-9._~%/-]*)?$")


def normalize_clients(clients):
    """mtls_clients with each entry's defaults filled in: what both roles read."""
    return [{**client, "state": client.get("state") or "present"} for client in clients or []]


def client_name_errors(clients):
    """Names that are not safe as file names, or repeat; each message names the entry."""
    errors, seen = [], {}
    for index, client in enumerate(clients or []):
        if not isinstance(client, dict):
            continue  # client_errors says so
        name = client.get("name")
        where = f"mtls_clients[{index}]"
        if not isinstance(name, str) or not NAME_RE.match(name) or name in (".", ".."):
            errors.append(f"{where}.name must be letters, digits, '.', '_' or '-' (it names files), got {name!r}")
        elif name in seen:
            errors.append(f"{where} ({name}).name is used again: mtls_clients[{seen[name]}] has it already")
        else:
            seen[name] = index
    return errors


def client_errors(clients):
    """Problems in mtls_clients, each naming the entry and the field."""
    errors = client_name_errors(clients)
    for index, client in enumerate(clients or []):
        if not isinstance(client, dict):
            errors.append(f"mtls_clients[{index}] must be a mapping with at least a name")
            continue
        name = client.get("name")
        where = f"mtls_clients[{index}]" + (f" ({name})" if isinstance(name, str) and NAME_RE.match(name) else "")
        state = client.get("state", "present")
        if state not in CLIENT_STATES:
            errors.append(f"{where}.state must be one of {', '.join(CLIENT_STATES)}, got {state!r}")
        if state == "present" and not client.get("p12_passphrase"):
            errors.append(f"{where}.p12_passphrase is required for a present user: it protects the bundle in transit")
        email = client.get("email")
        if email is not None and not (isinstance(email, str) and EMAIL_RE.match(email)):
            errors.append(f"{where}.email must look like user@example.org, got {email!r}")
        for field, least in (("valid_days", 1), ("renew_before_days", 0)):
            value = client.get(field)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
                errors.append(f"{where}.{field} must be a whole number of days, at least {least}; got {value!r}")
        reason = client.get("revoke_reason")
        if reason is not None and reason not in REVOKE_REASONS:
            errors.append(f"{where}.revoke_reason must be one of {', '.join(REVOKE_REASONS)}, got {reason!r}")
        unknown = sorted(set(client) - CLIENT_FIELDS)
        if unknown:
            errors.append(f"{where} has unknown fields {', '.join(unknown)}; check their spelling")
    return errors


def location_errors(locations, verify_client="on"):
    """Problems in mtls_locations: [{path, allow: [client names]} or {path, public: true}]."""
    errors, seen = [], set()
    for index, location in enumerate(locations or []):
        where = f"mtls_locations[{index}]"
        if not isinstance(location, dict):
            errors.append(f"{where} must be a mapping with a path and an allow list")
            continue
        path = location.get("path")
        if not isinstance(path, str) or not LOCATION_PATH_RE.match(path) or path == "/":
            errors.append(f"{where}.path must be a URL path below / such as /admin (letters, digits, . _ ~ - /), got {path!r}")
        elif path in seen:
            errors.append(f"{where}.path {path} is listed twice")
        seen.add(path)
        allow, public = location.get("allow"), location.get("public", False)
        if public is not False and public is not True:
            errors.append(f"{where}.public must be true or false, got {public!r}")
        elif public and allow is not None:
            errors.append(f"{where} is public (no certificate needed) and has an allow list; choose one")
        elif public and verify_client != "optional":
            errors.append(f"{where} is public, which needs mtls_verify_client: optional (now {verify_client!r})")
        elif not public and (not isinstance(allow, list) or not allow
                             or not all(isinstance(n, str) and NAME_RE.match(n) for n in allow)):
            errors.append(f"{where}.allow must be a non-empty list of client names, got {allow!r}")
        unknown = sorted(set(location) - {"path", "allow", "public"})
        if unknown:
            errors.append(f"{where} has unknown fields {', '.join(unknown)}; check their spelling")
    return errors


def server_errors(server_name, listen_port=443, listen_address="*", upstream="", locations=None, verify_client="on"):
    """Problems in the server variables; they end up in nginx syntax, so nothing may inject directives."""
    errors = location_errors(locations, verify_client)
    if not isinstance(server_name, str) or not SERVER_NAME_RE.match(server_name) or len(server_name) > 253:
        errors.append(f"mtls_server_name must be a host name such as www.example.org, got {server_name!r}")
    if not isinstance(listen_port, int) or isinstance(listen_port, bool) or not 1 <= listen_port <= 65535:
        errors.append(f"mtls_listen_port must be a port number from 1 to 65535, got {listen_port!r}")
    if listen_address != "*":
        try:
            ipaddress.ip_address(str(listen_address))
        except ValueError:
            errors.append(f"mtls_listen_address must be '*' or an IP address such as 127.0.0.1, got {listen_address!r}")
    if upstream and not (isinstance(upstream, str) and UPSTREAM_RE.match(upstream)):
        errors.append(f"mtls_upstream must be an http(s) URL such as http://127.0.0.1:8080, got {upstream!r}")
    return errors
