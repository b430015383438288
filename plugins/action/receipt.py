# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for wgsdn.fabric.receipt: the controller's half (what decides a converge), then the module on the host."""

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import receipt

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["check", "write"], "default": "check"},
    "desired": {"type": "str"},
}

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def _variables(self, task_vars, declared):
        """The deciding variables with their values as the roles would see them (templated)."""
        values = {}
        for name, value in receipt.inputs(task_vars, declared).items():
            try:
                values[name] = self._templar.template(value)
            except AnsibleError:
                # The roles will fail on it with their own message; here it still decides.
                values[name] = repr(value)
        return values

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_if=[("state", "write", ["desired"])])[1]
        full = self._templar.template(task_vars.get("wgsdn_site_full", False))
        try:
            full = boolean(full, strict=True)
        except TypeError:
            host = task_vars["inventory_hostname"]
            raise AnsibleActionFail(f"host '{host}': variable 'wgsdn_site_full' must be true or false, not {full!r}") from None
        if "wgsdn_plan" not in task_vars:
            raise AnsibleActionFail("wgsdn_plan is not defined: run the wgsdn.fabric.plan role first (site.yml does)")
        declared = receipt.declarations(COLLECTION_ROOT)
        variables = self._variables(task_vars, declared)
        host, plan = task_vars["inventory_hostname"], task_vars["wgsdn_plan"]
        module_args = {
            "state": args["state"],
            "paths": receipt.paths(variables, declared),
            "units": receipt.units(declared),
            "receipt": receipt.RECEIPT_FILE,
            "key": receipt.KEY_FILE,
            "live": receipt.live_arguments(plan, host, receipt.live(declared)),
        }
        if args["state"] == "write":
            module_args["desired"] = args["desired"]
            result.update(self._execute_module("wgsdn.fabric.receipt", module_args=module_args, task_vars=task_vars))
            return result
        desired = receipt.desired_digest(receipt.host_view(plan, host), variables, receipt.code_digest(COLLECTION_ROOT))
        observed = self._execute_module("wgsdn.fabric.receipt", module_args=module_args | {"desired": desired}, task_vars=task_vars)
        if observed.get("failed"):
            result.update(observed)
            return result
        reasons = receipt.differences(observed.get("receipt"), observed["desired"], observed["observed"])
        if full:
            reasons.append("wgsdn_site_full is set: every host converges in full")
        result.update(changed=False, current=not reasons, reasons=reasons, desired=desired, observed=observed["observed"], units=observed["units"])
        return result
