# Private to the mtls.nginx collection: not a public API, may change without notice.
"""mtls_sites (issue 26, work in progress): several protected sites per host, each checked and
given its defaults from the host's single-site variables. Not wired to the roles yet."""
from __future__ import annotations

import re

from ansible_collections.mtls.nginx.plugins.module_utils import _inventory

SITE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}\Z")
# The implicit site: today's single server block, built from the mtls_* variables.
IMPLICIT = "mtls-nginx"
FIELDS = {"name", "mode", "server_name", "dns_names", "ip_addresses", "listen_address", "listen_port", "upstream",
          "send_certificate", "locations", "verify_client", "websocket", "default_server"}
MODES = ("server", "include")


def normalize(sites, defaults):
    """Each site with every field, what it leaves out taken from defaults (the host's mtls_* settings
    under the site's field names); no sites: the implicit one, exactly the defaults."""
    if not sites:
        return [{**defaults, "name": IMPLICIT, "mode": "server", "websocket": False, "default_server": False}]
    return [{"mode": "server", "dns_names": [], "ip_addresses": [], "websocket": False, "default_server": False,
             **{key: defaults[key] for key in ("listen_address", "listen_port", "upstream", "send_certificate",
                                               "locations", "verify_client")},
             **site} for site in sites]


# The single-site variables' names in _inventory's messages, and the site fields they stand for.
_FIELD_OF = {"mtls_server_name": "server_name", "mtls_listen_port": "listen_port", "mtls_listen_address": "listen_address",
             "mtls_upstream": "upstream", "mtls_locations": "locations", "mtls_verify_client": "verify_client"}


def _renamed(message, where):
    """An _inventory message about a single-site variable, said of the site's field."""
    return re.sub("|".join(_FIELD_OF), lambda match: f"{where}.{_FIELD_OF[match.group(0)]}", message)


def errors(sites, client_names):
    """Problems in mtls_sites, each naming the site and field: everything lands in nginx's
    configuration or a file name, so nothing is taken on trust."""
    if sites is None or sites == []:
        return []
    if not isinstance(sites, list):
        return [f"mtls_sites must be a list of sites, got {sites!r}"]
    found, names, addresses = [], {}, {}
    for index, site in enumerate(sites):
        where = f"mtls_sites[{index}]"
        if not isinstance(site, dict):
            found.append(f"{where} must be a mapping with at least name and server_name")
            continue
        name = site.get("name")
        if not isinstance(name, str) or not SITE_NAME_RE.match(name) or name == IMPLICIT:
            found.append(f"{where}.name must be lowercase letters, digits, '_' or '-' (at most 32, not {IMPLICIT!r}):"
                         f" it names the site's files, got {name!r}")
        elif name in names:
            found.append(f"{where}.name {name} is used again: mtls_sites[{names[name]}] has it already")
        else:
            names[name] = index
        where = f"{where} ({name})" if isinstance(name, str) and SITE_NAME_RE.match(name) else where
        unknown = sorted(set(site) - FIELDS)
        if unknown:
            found.append(f"{where} has unknown fields {', '.join(unknown)}; check their spelling")
        if site.get("mode", "server") not in MODES:
            found.append(f"{where}.mode must be one of {', '.join(MODES)}, got {site.get('mode')!r}")
        server_name = site.get("server_name")
        found += [_renamed(message, where) for message in _inventory.server_errors(server_name, site.get("listen_port", 443),
                                                          site.get("listen_address", "*"), site.get("upstream", ""),
                                                          site.get("locations"), site.get("verify_client", "on"),
                                                          [{"name": n} for n in client_names])]
        for field in ("websocket", "default_server", "send_certificate"):
            if field in site and not isinstance(site[field], bool):
                found.append(f"{where}.{field} must be true or false, got {site[field]!r}")
        key = (str(server_name).lower(), site.get("listen_port", 443))
        if key in addresses:
            found.append(f"{where}.server_name {server_name} on port {key[1]} is mtls_sites[{addresses[key]}]'s too:"
                         " nginx would serve only one of them; give each site its own name or port")
        else:
            addresses[key] = index
    return found
