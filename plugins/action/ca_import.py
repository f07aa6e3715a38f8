# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._backends import ca_import
from ansible_collections.mtls.nginx.plugins.plugin_utils._controller import ControllerAction


class ActionModule(ControllerAction):
    """Runs mtls.nginx.ca_import in the controller process for tasks on the control node."""

    backend = ca_import
