# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that check the inventory contract before the roles change anything."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._inventory import (
    client_errors, fleet_errors, normalize_clients, server_errors, session_hazard_errors)


class FilterModule:
    def filters(self):
        return {"client_errors": client_errors, "server_errors": server_errors, "normalize_clients": normalize_clients,
                "fleet_errors": fleet_errors, "session_hazard_errors": session_hazard_errors}
