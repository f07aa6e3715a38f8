# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What one host gets, decided here: its paths, directories, files (each with its content, mode and
check), what is removed and whether the bootstrap runs. The server model (_server_model) says what
nginx is told; this says which files carry it to the host. The role's YAML only wires inputs in
and hands the result to host_files; templates only print.
"""
from __future__ import annotations

import base64

# The role's own files (roles/server/files), by where they go: the scripts, and the pages.
PAGES = ("site/index.html", "errors/403.html", "errors/495.html", "errors/496.html", "errors/497.html")
SCRIPTS = (("check_script", "check-site"), ("fact_script", "mtls_nginx.fact"))


def host_paths(role):
    """Every path the role writes, checks or removes on the host, named once. role: the role's settings
    (tls_dir, www_dir, check_script, fact_script, nginx_binary) and its distribution's (site_path,
    stream_path, main_path, included_log_path, default_sites, pid_file)."""
    tls = role["tls_dir"]
    return {**role, "sites_dir": f"{tls}/sites", "ca": f"{tls}/ca.crt", "crl": f"{tls}/crl.pem",
            "certificate": f"{tls}/server.crt", "private_key": f"{tls}/server.key",
            "identity_headers": f"{tls}/identity-headers.conf"}


def entry(path, data, mode=None, validate=None, diff=False):
    """One host_files entry: content as base64."""
    found = {"path": path, "content": base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()}
    if mode:
        found["mode"] = mode
    if validate:
        found["validate"] = validate
    if diff:
        found["diff"] = True
    return found


def directories(paths, metrics_dir):
    """The directories the files go into (the sites' one holds only what the role puts there)."""
    found = [{"path": paths["tls_dir"]}, {"path": paths["sites_dir"], "exclusive": True},
             {"path": f"{paths['www_dir']}/errors"}, {"path": f"{paths['www_dir']}/site"},
             {"path": paths["check_script"].rpartition("/")[0]}, {"path": paths["fact_script"].rpartition("/")[0]}]
    return found + ([{"path": metrics_dir}] if metrics_dir else [])


def crl_files(paths, trust, read, metrics):
    """The CRLs nginx checks (every trusted CA's, in one file) and, with metrics ({path, text}), the
    node_exporter textfile that is rewritten with them."""
    found = [entry(paths["crl"], b"".join(read(path) for path in trust["crls"]))]
    return found + ([entry(metrics["path"], metrics["text"])] if metrics else [])


def files(model, paths, inputs, read):
    """Everything host_files installs for this host, in one list, in the order it is written.

    inputs: trust ({certificates, crls}: control-node paths), certificate and private_key (the host's own,
    on the control node), metrics ({path, text} or None), role_files (the role's files directory),
    rendered ({site, stream, included_log, identity, snippets: {site name: text}}: the templates
    as rendered for this host), nginx_version ("" before nginx is installed), stream ({wanted, module,
    installed}: the TCP services' file goes in once nginx has the module, or bootstrap installed its
    package: nginx -t then names what is still missing), shutdown_timeout (mtls_worker_shutdown_timeout).
    read(path) -> bytes reads a file on the control node."""
    check = paths["check_script"]
    found = crl_files(paths, inputs["trust"], read, inputs["metrics"])
    found += [entry(paths["ca"], b"".join(read(path) for path in inputs["trust"]["certificates"])),
              entry(paths["certificate"], read(inputs["certificate"])),
              entry(paths["private_key"], read(inputs["private_key"]), "0600")]
    # Each site's own certificate and key (the implicit site's are the host's, above).
    found += [entry(host, read(source), *extra) for site in model["sites"] for host, source, *extra in site["files"]]
    found += [entry(paths[key], read(f"{inputs['role_files']}/{name}"), "0755") for key, name in SCRIPTS]
    found += [entry(f"{paths['www_dir']}/{page}", read(f"{inputs['role_files']}/{page}")) for page in PAGES]
    if not inputs["nginx_version"]:  # the configuration waits until nginx is there to check it
        return found
    rendered = inputs["rendered"]
    found.append(entry(paths["site_path"], rendered["site"], validate=f"{check} %s {paths['site_path']}", diff=True))
    if model["included"]:
        found.append(entry(paths["included_log_path"], rendered["included_log"],
                           validate=f"{check} %s {paths['included_log_path']}"))
        found += [entry(site["snippet"], rendered["snippets"][site["name"]], validate=f"{check} %s {site['snippet']}", diff=True)
                  for site in model["sites"] if site["mode"] == "include"]
        found.append(entry(paths["identity_headers"], rendered["identity"]))
    if main_wanted(model, inputs["shutdown_timeout"]):
        text = ("# Managed by mtls.nginx.server: local changes are overwritten.\n"
                f"worker_shutdown_timeout {inputs['shutdown_timeout']};\n")
        found.append(entry(paths["main_path"], text, validate=f"{check} %s {paths['main_path']}"))
    stream = inputs["stream"]
    if stream["wanted"] and (stream["module"] or stream["installed"]):
        found.append(entry(paths["stream_path"], rendered["stream"], validate=f"{check} %s {paths['stream_path']}",
                           diff=True))
    return found


def main_wanted(model, shutdown_timeout):
    """With a WebSocket site, how long old workers may keep connections after a reload (the main
    context's worker_shutdown_timeout), so that the reload which revokes a user closes their sockets."""
    return bool(model["websocket"] and shutdown_timeout)


def removals(paths, model, stream_wanted, shutdown_timeout, disable_default_site):
    """What the host must not have: the distribution's default site (when asked), and the files of what
    this host no longer has (TCP services, the main-context file, the included sites' shared files)."""
    return ((list(paths["default_sites"]) if disable_default_site else []) + ([] if stream_wanted else [paths["stream_path"]])
            + ([] if main_wanted(model, shutdown_timeout) else [paths["main_path"]])
            + ([] if model["included"] else [paths["identity_headers"], paths["included_log_path"]]))


def bootstrap(host, paths, nginx_version, stream_wanted, stream_module):
    """Whether the converge could not finish (host: host_files' result): nginx is missing (its
    configuration deferred), its version or stream module unknown, or the fact script just changed
    (its findings are read again)."""
    return bool(host["deferred"] or not host["probed"][paths["nginx_binary"]] or not nginx_version
                or (stream_wanted and not stream_module) or paths["fact_script"] in host["changed_paths"])


def pki_missing(trust, client_cas, certificate, private_key, sites, exists):
    """What the host is configured from that the control node lacks (exists(path) -> bool there)."""
    wanted = (trust["certificates"] + trust["crls"] + [ca["ledger"] for ca in client_cas] + [certificate, private_key]
              + [site[key] for site in sites for key in ("certificate", "private_key")])
    return [path for path in wanted if path and not exists(path)]
