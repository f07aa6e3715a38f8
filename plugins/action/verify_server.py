# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._backends import verify_server
from ansible_collections.mtls.nginx.plugins.plugin_utils._controller import ControllerAction


class ActionModule(ControllerAction):
    """Runs mtls.nginx.verify_server in the controller process for tasks on the control node."""

    backend = verify_server

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if self._task.check_mode and "msg" in result and not result.get("failed"):
            result["_ansible_verbose_always"] = True  # the reason no request was sent, printed like debug's
        return result
