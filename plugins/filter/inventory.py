# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that check the inventory contract before the roles change anything."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _contract, _layout, _sites
from ansible_collections.mtls.nginx.plugins.module_utils._inventory import (
    client_errors, fleet_errors, normalize_clients, server_errors, session_hazard_errors)


def contract(variables, role, hosts=None, hostvars=None, host=""):
    """The inventory contract (see _contract.contract).

    variables: the play host's mtls_* variables as [name, value] pairs (the varnames and vars lookups).
    role: pki or server. hosts, hostvars: for the pki role, nginx_mtls_servers and the play's hostvars.
    """
    variables = dict(variables)
    pki_dir = variables.get("mtls_pki_dir")
    server_ca = _layout.pki_paths(pki_dir)["server_ca_certificate"] if isinstance(pki_dir, str) and pki_dir else ""
    fleet = None if role != "pki" else {
        name: {key: hostvars[name].get(key) for key in _contract.FLEET_VARIABLES} for name in hosts or []}
    return _contract.contract(variables, role, fleet, host, server_ca)


class FilterModule:
    def filters(self):
        return {"contract": contract, "client_errors": client_errors, "server_errors": server_errors, "normalize_clients": normalize_clients,
                "fleet_errors": fleet_errors, "session_hazard_errors": session_hazard_errors,
                "site_host_errors": _sites.host_errors}
