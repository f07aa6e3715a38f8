# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that give the roles what Python owns: the PKI's file layout and the ledger's view."""
from __future__ import annotations

import base64
import os
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.mtls.nginx.plugins.module_utils import _contract, _files, _info, _layout, _ledger, _rollover
from ansible_collections.mtls.nginx.plugins.module_utils import _crl, _deployment, _dn, _server_model, _trust, _x509
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._inventory import name_error

_SERIAL_RE = re.compile(r"^[0-9A-F]{1,40}\Z")


def pki_paths(pki_dir, server_name=None, client=None):
    if not isinstance(pki_dir, str) or not pki_dir:
        raise AnsibleFilterError(f"mtls_pki_dir must be the path of the PKI directory on the control node, got {pki_dir!r}")
    paths = _layout.pki_paths(pki_dir, server_name)
    if client:
        paths.update(_layout.client_files(paths["clients_dir"], client))
        paths["client_dir"] = _layout.client_dir(paths["clients_dir"], client)
        paths["passphrase_path"] = _layout.passphrase_path(paths["passphrases_dir"], client)
    return paths


def valid_certificates(ledger_path):
    """The ledger's valid certificates ([{serial, name, fingerprint_sha256, ...}]); fails on a missing ledger."""
    try:
        entries = _ledger.valid(_ledger.parse(_read(ledger_path), ledger_path))
    except MtlsError as exc:
        raise AnsibleFilterError(str(exc)) from None
    # Names reach nginx's maps: the ledger is checked like the inventory (a module run on its own
    # or a hand edit could have put anything there).
    errors = [name_error(entry.get("name"), f"{ledger_path}: the name of serial {entry.get('serial')!r}")
              for entry in entries]
    errors += [f"{ledger_path}: serial {entry.get('serial')!r} is not hexadecimal" for entry in entries
               if not isinstance(entry.get("serial"), str) or not _SERIAL_RE.match(entry["serial"])]
    if any(errors):
        raise AnsibleFilterError("; ".join(error for error in errors if error) + "; restore the ledger from your backup")
    return entries


def server_model(cas, settings):
    """What the host's nginx is told (see _server_model.build), each trusted CA's ledger read once
    and its certificates matched by the CA's name as nginx prints the issuer."""
    certificates = []
    for ca in cas:
        try:
            issuer = _dn.nginx_dn(_x509.load_certificate(_read(ca["certificate"]), ca["certificate"]).subject)
        except MtlsError as exc:
            raise AnsibleFilterError(f"{ca['certificate']}: {exc}") from None
        certificates += [{**entry, "issuer": issuer} for entry in valid_certificates(ca["ledger"])]
    return _server_model.build(settings, certificates)


def client_cas(pki_dir, stage="none", reissue="on_renewal", two_tiers=None):
    """Which client CA issues, which ones servers trust, at a rollover stage (see _rollover.client_cas).

    Every path is where the files are now: while the stage's move is still due (check mode only
    predicts it; anywhere else rollover_layout_errors refuses to go on), where they are until it is done.
    two_tiers: whether a root signs them (the pki role knows it from mtls_root_ca); None: whether
    the PKI has one (root/ca.crt), as the server role, the CRL job and the report read it.
    """
    errors = _rollover.stage_errors(stage, reissue, {}, {"common_name": "-"})
    if errors:
        raise AnsibleFilterError("; ".join(errors))
    paths = _layout.pki_paths(pki_dir)
    try:
        pending = _rollover.moves(stage, paths["ca_dir"], paths["next_ca_dir"], paths["archive_dir"], os.path.isdir,
                                  utcnow())
    except MtlsError:
        pending = []  # a stage the directories contradict: rollover_layout_errors names it
    archived = [_rollover.where_now(directory, pending) for directory in _rollover.archived(paths["archive_dir"], os.listdir)
                + [target for _source, target in pending if os.path.dirname(target) == paths["archive_dir"]]]
    # The CAs a rollover archived, and those above an archived CA taken from another PKI: hosts may
    # stop trusting them (the lost-PKI guard lets them go).
    retired = [_trust.fingerprint(der) for directory in archived for kind in ("certificate", "chain")
               for der in _trust.certificates(_files.read_bytes(_layout.ca_files(directory)[kind]))]
    if two_tiers is None:
        two_tiers = os.path.exists(_layout.ca_files(paths["root_dir"])["certificate"])
    cas = _rollover.client_cas(pki_dir, stage, reissue, pending, bool(two_tiers))
    return {**cas, "trust": _trust_files(cas),
            "archived_ledgers": [_layout.ca_files(directory)["ledger"] for directory in archived], "retired": retired}


def _trust_files(cas):
    """What servers trust at this stage: the client CAs' certificates and CRLs, the root's with two
    tiers, and, for a CA imported from another PKI, the CAs above it and their CRLs (OpenSSL wants a
    CRL for every CA of a client's chain once nginx sets ssl_crl); chain_depth, the
    ssl_verify_depth the longest chain needs."""
    certificates, crls, depth = [], [], 1
    for ca in cas["trusted"] + ([cas["root"]] if cas["root"] else []):
        certificates.append(ca["certificate"])
        crls.append(ca["crl"])
        above = _files.read_bytes(ca.get("chain", ""))
        if above is not None:
            certificates.append(ca["chain"])
            crls.append(ca["chain_crls"])
        # a client's chain: its CA, the root of two tiers or the CAs above an imported CA
        depth = max(depth, 1 + (1 if cas["root"] else 0) + len(_trust.certificates(above)))
    return {"certificates": certificates, "crls": crls, "chain_depth": depth}


def rollover_layout_errors(pki_dir, stage="none", pending_ok=False, two_tiers=None):
    """Whether the PKI's directories match the stage and mtls_root_ca (see _rollover.layout_errors)."""
    paths = pki_paths(pki_dir)
    return _rollover.layout_errors(stage, paths["ca_dir"], paths["next_ca_dir"], os.path.isdir, pending_ok,
                                   paths["root_dir"], two_tiers)


def rollover_errors(stage, reissue, ca, next_ca):
    """What is wrong with the rollover variables (see _rollover.stage_errors)."""
    return _rollover.stage_errors(stage, reissue, ca, next_ca)


def node_exporter_textfile(trust, server_certificate, server_name):
    """node_exporter textfile metrics of a server: the end of each CA it trusts and the next update
    of each CRL it checks (trust: client_cas(...).trust), and the server certificate's end."""
    try:
        certificates = [cert for path in trust["certificates"] for cert in _x509.load_certificates(_read(path), path)]
        updates = {issuer: update for path in trust["crls"] for issuer, update in _crl.next_updates(_read(path), path).items()}
        cas = [(cert.subject.rfc4514_string(), _x509.not_after(cert), updates.get(cert.subject)) for cert in certificates]
        server = _x509.load_certificate(_read(server_certificate), server_certificate)
        return _info.metrics(cas, (server_name, _x509.not_after(server)))
    except MtlsError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _read(path):
    """A file of the control node's PKI, which the pki role must have written."""
    data = _files.read_bytes(path)
    if data is None:
        raise MtlsError(f"{path} does not exist: run the mtls.nginx.pki role (playbooks/site.yml) before the"
                        " server role, with the same mtls_pki_dir")
    return data


def file_entries(pairs, files_dir, mode=None):
    """host_files entries from [destination, source under files_dir] pairs: each source read on the
    control node, base64 (as the file lookup and b64encode would), with mode when given (a pair's
    third item, when it has one, is that entry's mode)."""
    entries = []
    for destination, source, *own_mode in pairs:
        path = os.path.join(files_dir, source)
        data = _files.read_bytes(path)
        if data is None:
            raise AnsibleFilterError(f"{path} does not exist" + (
                ": run the mtls.nginx.pki role first, with the same mtls_pki_dir, or check the path the inventory gives"
                if os.path.isabs(source) else ": the collection is incomplete; reinstall it"))
        entry_mode = own_mode[0] if own_mode else mode
        entries.append({"path": destination, "content": base64.b64encode(data).decode(),
                        **({"mode": entry_mode} if entry_mode else {})})
    return entries


def fleet_servers(hosts, hostvars, fallback):
    """The servers to issue certificates for, from each host's variables (see _inventory.fleet)."""
    settings = {host: {key: hostvars[host].get(key) for key in _contract.FLEET_VARIABLES} for host in hosts or []}
    return _contract.fleet_servers(settings, {key: fallback.get(key) for key in _contract.FLEET_VARIABLES})


def _control_node_file(path):
    """A file the host is configured from, read on the control node."""
    try:
        return _read(path)
    except MtlsError as exc:
        raise AnsibleFilterError(str(exc)) from None


def host_paths(role):
    """Every path the server role uses on the host (see _deployment.host_paths)."""
    return _deployment.host_paths(role)


def server_deployment(model, paths, inputs):
    """What the host gets: {directories, files, absent} (see _deployment)."""
    return {"directories": _deployment.directories(paths, inputs["metrics_dir"]),
            "files": _deployment.files(model, paths, inputs, _control_node_file),
            "absent": _deployment.removals(paths, model, inputs["stream"]["wanted"], inputs["shutdown_timeout"],
                                           inputs["disable_default_site"])}


def server_crl_files(trust, paths, metrics):
    """The CRL file (and the metrics file) alone, for playbooks/refresh_crl.yml."""
    return _deployment.crl_files(paths, trust, _control_node_file, metrics)


def server_bootstrap(host, paths, nginx_version, stream_wanted, stream_module):
    return _deployment.bootstrap(host, paths, nginx_version, stream_wanted, stream_module)


def server_pki_missing(trust, client_cas, certificate, private_key, sites):
    return _deployment.pki_missing(trust, client_cas, certificate, private_key, sites, os.path.exists)


class FilterModule:
    def filters(self):
        return {"pki_paths": pki_paths, "valid_certificates": valid_certificates, "fleet_servers": fleet_servers,
                "client_cas": client_cas, "rollover_errors": rollover_errors,
                "rollover_layout_errors": rollover_layout_errors, "node_exporter_textfile": node_exporter_textfile,
                "server_model": server_model, "file_entries": file_entries, "host_paths": host_paths,
                "server_deployment": server_deployment, "server_crl_files": server_crl_files,
                "server_bootstrap": server_bootstrap, "server_pki_missing": server_pki_missing}
