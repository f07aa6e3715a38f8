# Private to the mtls.nginx collection: not a public API, may change without notice.
"""mtls_sites: several protected sites per host, each checked and given its defaults from the host's
single-site variables; without mtls_sites, those variables are one implicit site. And, from the host's
nginx configuration as the local fact reads it: whether a port shared by two server blocks is safe on
this nginx, and whether a server block includes each included site's snippet."""
from __future__ import annotations

import re

from ansible_collections.mtls.nginx.plugins.module_utils import _inventory, _layout

SITE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}\Z")
# The implicit site: today's single server block, built from the mtls_* variables.
IMPLICIT = "mtls-nginx"
FIELDS = {"name", "mode", "server_name", "dns_names", "ip_addresses", "listen_address", "listen_port", "upstream",
          "send_certificate", "locations", "verify_client", "websocket", "default_server", "certificate", "private_key",
          "allow", "ca_certificate"}
# mode server: a server block of ours. mode include: a snippet of mTLS directives that a server block the
# team manages includes; that block has its own listen, names, certificate and content.
MODES = ("server", "include")
INCLUDE_FIELDS = {"name", "mode", "server_name", "listen_port", "allow", "ca_certificate"}
# What a site leaves out comes from the host's single-site variables of these names.
DEFAULTS = {"listen_address": "mtls_listen_address", "listen_port": "mtls_listen_port", "upstream": "mtls_upstream",
            "send_certificate": "mtls_upstream_send_certificate", "locations": "mtls_locations",
            "verify_client": "mtls_verify_client"}
# The implicit site's own fields.
IMPLICIT_FIELDS = {"server_name": "mtls_server_name", "dns_names": "mtls_server_dns_names",
                   "ip_addresses": "mtls_server_ip_addresses", "certificate": "mtls_server_certificate",
                   "private_key": "mtls_server_private_key", **DEFAULTS}


# The single-site variables' defaults (roles/server/defaults/main.yml), for a host that sets none (the pki
# role, which checks every host's sites too, does not see the server role's defaults).
HOST_DEFAULTS = {"listen_address": "*", "listen_port": 443, "upstream": "", "send_certificate": False, "locations": [],
                 "verify_client": "on"}


def host_defaults(variables):
    """What a site leaves out, from the host's single-site variables (DEFAULTS)."""
    return {field: HOST_DEFAULTS[field] if variables.get(variable) is None else variables.get(variable)
            for field, variable in DEFAULTS.items()}


def resolve(site, defaults):
    """A site with what it leaves out taken from the host (defaults: host_defaults): the one merged form that
    the checks read and the server model is built from. An included site's server block is the team's, so
    it has no upstream or locations of ours and always demands a certificate."""
    site = {"mode": "server", "dns_names": [], "ip_addresses": [], "websocket": False, "default_server": False,
            "certificate": "", "private_key": "", "allow": None, **defaults, **site}
    if site["mode"] == "include":
        site.update(upstream="", locations=[], websocket=False, default_server=False, verify_client="on")
    return site


def normalize(variables):
    """Each site of a host with every field; variables: the host's mtls_* variables.

    Without mtls_sites, the single-site variables are one site named IMPLICIT. A site's certificate
    and private_key are where the control node has them: its own, or the pki role's for its server_name.
    """
    get = variables.get
    sites = get("mtls_sites") or [{**{field: get(variable) for field, variable in IMPLICIT_FIELDS.items()},
                                   "name": IMPLICIT}]
    normalized = []
    for site in sites:
        site = resolve(site, host_defaults(variables))
        if site["mode"] == "include":
            # The CA of that block's own certificate, which the verify step checks it against (empty: the system's).
            site["ca_certificate"] = site.get("ca_certificate") or get("mtls_server_ca_certificate") or ""
        site["dns_names"], site["ip_addresses"] = site["dns_names"] or [], site["ip_addresses"] or []
        site["brought"] = bool(site["certificate"])  # the team's own certificate, not the pki role's
        if site["mode"] == "server":
            site["certificate"], site["private_key"] = certificate_files(
                get("mtls_pki_dir"), site["server_name"], site["certificate"], site["private_key"])
        normalized.append(site)
    return normalized


def certificate_files(pki_dir, server_name, certificate, private_key):
    """Where the control node has a server name's certificate and key: the team's own (brought), or
    the pki role's for that name."""
    if certificate or not pki_dir:
        return certificate or "", private_key or ""
    return _layout.server_files(_layout.pki_paths(pki_dir)["server_dir"], server_name)


def fleet_entries(variables):
    """The server certificates the pki role issues for one host's sites (those that bring none):
    the FLEET_VARIABLES shape _inventory.fleet reads."""
    return [{"mtls_server_name": site.get("server_name"), "mtls_server_dns_names": site.get("dns_names") or [],
             "mtls_server_ip_addresses": site.get("ip_addresses") or [], "mtls_server_certificate": site.get("certificate") or ""}
            for site in variables.get("mtls_sites") or [] if isinstance(site, dict) and site.get("mode") != "include"]


def errors(sites, client_names, variables=None):
    """Problems in mtls_sites, each naming the site and field: everything lands in nginx's
    configuration or a file name, so nothing is taken on trust. variables: the host's mtls_*
    variables, whose single-site settings a site takes where it leaves them out: each site is
    resolved first and the merged site checked, as the server model will read it."""
    inherited = host_defaults(variables or {})
    if sites is None or sites == []:
        return []
    if not isinstance(sites, list):
        return [f"mtls_sites must be a list of sites ({{name, server_name, ...}}), got {sites!r}"]
    found, names, ids, addresses, defaults = [], {}, {}, {}, {}
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
        elif variable_id(name) in ids:
            found.append(f"{where}.name {name} differs from mtls_sites[{ids[variable_id(name)]}]'s only in '-' and '_',"
                         " which nginx's variable names cannot tell apart; rename one")
        else:
            names[name], ids[variable_id(name)] = index, index
        where = f"{where} ({name})" if isinstance(name, str) and SITE_NAME_RE.match(name) else where
        merged = resolve(site, inherited)
        found += _site_errors(site, merged, where, client_names)
        port = merged["listen_port"]
        key = (str(site.get("server_name")).lower(), port)
        if key in addresses:
            found.append(f"{where}.server_name {site.get('server_name')} on port {port} is mtls_sites[{addresses[key]}]'s"
                         " too: nginx would serve only one of them; give each site its own name or port")
        else:
            addresses[key] = index
        if site.get("default_server") is True:
            if port in defaults:
                found.append(f"{where}.default_server: mtls_sites[{defaults[port]}] is port {port}'s default server"
                             " already; a port has one")
            defaults.setdefault(port, index)
    return found


def variable_id(name):
    """A site's name as part of an nginx variable name (letters, digits and '_')."""
    return str(name).replace("-", "_")


def _site_errors(site, merged, where, client_names):
    """The problems of one site: what it wrote (site) where only that matters, the merged site (resolve)
    where the server model reads the merged value; a message about a value the site inherits says so."""
    found = []
    unknown = sorted(set(site) - FIELDS)
    if unknown:
        found.append(f"{where} has unknown fields {', '.join(unknown)}; check their spelling (README, Several sites)")
    mode = merged["mode"]
    if mode not in MODES:
        found.append(f"{where}.mode must be one of {', '.join(MODES)}, got {mode!r}")
    elif mode == "server" and "ca_certificate" in site:
        found.append(f"{where}.ca_certificate is for an included site's own certificate; a site of ours is checked"
                     " against the server CA (or mtls_server_ca_certificate when it brings its certificate)")
    elif mode == "include" and set(site) - INCLUDE_FIELDS - set(unknown):
        found.append(f"{where} is mode include, so the server block is yours: set "
                     f"{', '.join(sorted(set(site) - INCLUDE_FIELDS - set(unknown)))} there, not here (an included site"
                     f" has only {', '.join(sorted(INCLUDE_FIELDS))})")
    if "allow" in site:
        found += _inventory.allow_errors(where, site["allow"], client_names)
        locations = merged["locations"] if isinstance(merged["locations"], list) else []
        if any(isinstance(location, dict) and location.get("public") for location in locations):
            found.append(f"{where} has an allow list for the whole site and public locations"
                         f"{'' if 'locations' in site else ' (inherited from mtls_locations)'}; a public path needs no"
                         " certificate, so give it a site of its own or drop the allow list")
    # The single-site checks, said of the merged site's fields (and where a value comes from the host, so).
    labels = {field: f"{where}.{field}" if field in site or field == "server_name" else f"{where}.{field} (inherited from"
              f" {DEFAULTS[field]})" for field in ("server_name", *DEFAULTS)}
    checked = _inventory.server_errors(
        merged.get("server_name"), merged["listen_port"], merged["listen_address"], merged["upstream"],
        merged["locations"], merged["verify_client"], [{"name": name} for name in client_names])
    found += [re.sub(r"mtls_(server_name|listen_port|listen_address|upstream|locations|verify_client)",
                     lambda match: labels[match.group(1)], message) for message in checked]
    found += _inventory.fleet_errors([{"dns_names": site.get("dns_names") or [], "ip_addresses": site.get("ip_addresses") or []}],
                                     lambda _index, field: f"{where}.{field}")
    if merged["verify_client"] not in ("on", "optional"):
        found.append(f"{labels['verify_client']} must be on or optional, got {merged['verify_client']!r}")
    for field in ("websocket", "default_server", "send_certificate"):
        if field in site and not isinstance(site[field], bool):
            found.append(f"{where}.{field} must be true or false, got {site[field]!r}")
    if bool(site.get("certificate")) != bool(site.get("private_key")):
        found.append(f"{where}.certificate and private_key are given together, or both left out for the pki role"
                     " to issue the site's certificate")
    return found


# CVE-2025-23419: a TLS 1.3 session made on one server block of a port could be resumed on another
# (by SNI) without that one's client certificate check. Fixed upstream in 1.26.3 and 1.27.4; the
# distributions' packages that carry the fix for an older version, by the version they fixed it in.
SNI_RESUMPTION_FIXED = ((1, 27, 4), (1, 26, 3))
SNI_RESUMPTION_BACKPORTS = {"1.22.1": re.compile(r"^1\.22\.1-9\+deb12u(?P<update>[1-9]\d*)\b")}


def sni_resumption_fixed(version, package):
    """Whether this nginx (its version, and its package's version: '' when not from a package we know)
    refuses to resume a session on a server block other than the one that made it."""
    numbers = version_tuple(version)
    if numbers >= SNI_RESUMPTION_FIXED[0] or SNI_RESUMPTION_FIXED[1] <= numbers < (1, 27):
        return True
    backport = SNI_RESUMPTION_BACKPORTS.get(str(version))
    return bool(backport and backport.match(str(package or "")))


def version_tuple(version):
    """nginx's version as numbers: '1.22.1' -> (1, 22, 1); '' or anything without digits -> ()."""
    return tuple(int(part) for part in re.findall(r"\d+", str(version))[:3])


def snippet_path(tls_dir, name):
    """Where an include-mode site's snippet is on the host."""
    return f"{tls_dir}/sites/{name}.conf"


# The statuses the snippet's checks answer with (and nginx's own for certificates): a server block's
# error_page may not send them to a named location.
CHECK_STATUSES = {"400", "403", "495", "496", "497"}
INCLUDE_DOCS = 'README, "What a server block that includes the snippet may contain"'


def include_errors(fact, included, site_path, tls_dir):
    """How the host's configuration could route a request around an included site's checks, from the
    local fact (http_servers, assignments); included: {snippet path: site}. Decided by how nginx runs a
    request: the snippet's checks are rewrite directives at the server level, which nginx runs in the
    server-rewrite phase in the order they stand (a rewrite, return or break before them ends that phase
    first); a named location is entered without that phase (ngx_http_named_location), a URI one with it
    (ngx_http_internal_redirect), so only an error_page to a named location skips the checks; a listen
    without TLS has no certificate (the snippet refuses it, but the port is useless and misleading);
    another server block answering to the site's names serves them without the snippet, unless all it
    does is a return (a redirect); and our $mtls_ variables are what the checks read."""
    def ours(where):
        return str(where).startswith((f"{tls_dir}/", f"{site_path}:"))

    servers = fact.get("http_servers") or []
    found = [f"{where}: {variable} is a variable of mtls.nginx (who the client is, who may pass): only its own files may"
             " set it; remove that directive or name your variable otherwise"
             for variable, where in fact.get("assignments") or [] if not ours(where)]
    for path, site in included.items():
        label = f"mtls_sites {site['name']} (mode include)"
        including = [server for server in servers if path in (server.get("files") or [])]
        for server in including:
            rewrites = server.get("rewrites") or []
            first = next((index for index, (_what, at) in enumerate(rewrites) if at.startswith(f"{path}:")), len(rewrites))
            found += [f"{at}: '{what}' stands before 'include {path};' in the server block at {server['where']}, and nginx"
                      f" runs a server's rewrite directives in order: a {what} there can take a request past the checks of"
                      f" {label}. Move the include above it ({INCLUDE_DOCS})" for what, at in rewrites[:first]]
            found += [f"{at}: the server block that includes {path} listens without TLS here, where no client has a"
                      f" certificate ({label} answers such requests 496): serve plain HTTP from a server block of its own"
                      f" that only redirects (return 301 https://$host$request_uri;) ({INCLUDE_DOCS})"
                      for at in server.get("plain") or []]
            for page, at in server.get("error_pages") or []:
                words = page.split()
                statuses = sorted(set(words) & CHECK_STATUSES)
                if statuses and words[-1].startswith("@") and not at.startswith(f"{path}:"):
                    found.append(f"{at}: 'error_page {page}' sends {', '.join(statuses)} to a named location, which"
                                 f" nginx enters without the server level's checks: a request {label} refuses would reach"
                                 f" {words[-1]}. Remove it: the snippet has its own pages for these statuses ({INCLUDE_DOCS})")
        names = {str(site["server_name"]).lower()}
        names |= {str(name).lower() for server in including for name in server.get("names") or []}
        for server in servers:
            if server in including or ours(server.get("where")):
                continue
            answered = sorted(name for pattern in server.get("names") or [] for name in names if answers(pattern, name))
            rewrites = server.get("rewrites") or []
            if answered and not (rewrites and rewrites[0][0] == "return"):
                found.append(f"{server.get('where')}: this server block answers to {', '.join(answered)} without"
                             f" 'include {path};', so those requests skip the checks of {label}: include the snippet"
                             f" there too, or make the block only redirect (a return first) ({INCLUDE_DOCS})")
    return found


def answers(pattern, name):
    """Whether a server_name pattern (exact, *.suffix, .suffix, prefix.*, ~regex) matches a name, as nginx
    matches them (case-insensitively); a regex Python cannot read matches nothing."""
    pattern = str(pattern).lower()
    if pattern.startswith("~"):
        try:
            return re.search(pattern[1:], name) is not None
        except re.error:
            return False
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    if pattern.startswith("."):
        return name == pattern[1:] or name.endswith(pattern)
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return pattern == name


def host_errors(fact, sites, site_path, tls_dir):
    """What the host's nginx configuration says about our sites, from the local fact (nginx_version,
    nginx_package, http_servers [{ports, where, files}]): {"before": problems to stop on before anything
    changes, "after": problems that only the snippets this run writes can cure (checked at the end)}.

    before: how a request could get around an included site's checks (include_errors); a port one of
    our sites shares with another server block on an nginx without the fix for cross-server
    resumption; a server block that includes the snippet of a site no longer listed (removing it would
    break that block). after: an include-mode site whose snippet no server block
    includes (that site is not protected), or one included only by a block on another port.
    """
    servers = fact.get("http_servers") or []
    included = {snippet_path(tls_dir, site["name"]): site for site in sites if site["mode"] == "include"}
    prefix = f"{tls_dir}/sites/"
    before, after = include_errors(fact, included, site_path, tls_dir), []
    for server in servers:
        for path in server.get("files") or []:
            if path.startswith(prefix) and path.endswith(".conf") and path not in included:
                before.append(f"the server block at {server.get('where')} includes {path}, the snippet of a site that"
                              " mtls_sites no longer has: remove that include (and reload nginx) first, or keep the site")
    for path, site in included.items():
        including = [server for server in servers if path in (server.get("files") or [])]
        if not including:
            after.append(f"mtls_sites {site['name']} (mode include): no server block includes {path}, so that site is"
                         f" NOT protected: add 'include {path};' at the server level of the server block for"
                         f" {site['server_name']} (README, \"Adding mTLS to a server block you manage\") and reload nginx;"
                         " the snippet is in place now")
        elif not any(site["listen_port"] in (server.get("ports") or []) for server in including):
            after.append(f"mtls_sites {site['name']} (mode include): listen_port is {site['listen_port']}, but the server"
                         f" block that includes {path} ({including[0].get('where')}) listens on"
                         f" {', '.join(str(port) for port in including[0].get('ports') or [])}: set listen_port to its port")
    # Server blocks of ours: the sites' file, and the team's blocks that include our snippets.
    ours = {}
    for site in sites:
        ours.setdefault(site["listen_port"], []).append(site["name"])
    foreign = {}
    for server in servers:
        if not str(server.get("where", "")).startswith(f"{site_path}:") and not set(server.get("files") or []) & set(included):
            for port in server.get("ports") or []:
                foreign.setdefault(port, server.get("where"))
    shared = sorted(port for port, names in ours.items() if len(names) > 1 or port in foreign)
    if shared and fact.get("nginx_version") and not sni_resumption_fixed(fact["nginx_version"], fact.get("nginx_package")):
        before += [f"port {port} is shared by {', '.join(ours[port])}"
                   + (f" and the server at {foreign[port]}" if port in foreign else "")
                   + f", but nginx {fact['nginx_version']} ({fact.get('nginx_package') or 'package unknown'}) lacks the"
                   " fix for CVE-2025-23419: a TLS 1.3 session made on one of them could be resumed on another without"
                   " its client certificate check. Upgrade nginx (1.26.3, 1.27.4 or later; Debian 12: 1.22.1-9+deb12u1 or"
                   " later), or give each site a port of its own" for port in shared]
    return {"before": before, "after": after}
