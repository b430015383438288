# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for wgsdn.fabric.render_template: render a template into a file on the controller, without a module."""

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import files

ARGUMENT_SPEC = {
    "src": {"type": "str", "required": True},
    "dest": {"type": "path", "required": True},
    "mode": {"type": "raw", "default": "0644"},
    "directory_mode": {"type": "raw", "default": "0755"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        host, src, dest = task_vars.get("inventory_hostname"), args["src"], args["dest"]

        def fail(message, cause=None):
            raise AnsibleActionFail(f"{host}: {dest}: {message}") from cause

        try:
            mode, directory_mode = files.parse_mode(args["mode"]), files.parse_mode(args["directory_mode"])
        except ValueError as exc:
            fail(str(exc))
        # The ansible.builtin.template lookup renders as ansible.builtin.template does: the template
        # searched in the role's templates/, the same generated variables (template_destpath is the
        # one the lookup leaves out), trim_blocks on, newlines kept.
        template = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
        try:
            (rendered,) = template.run([src], variables=task_vars, template_vars={"template_destpath": dest})
        except AnsibleError as exc:
            fail(f"cannot render {src}: {exc.message}", exc)
        try:
            update = files.render(dest, to_bytes(rendered, errors="surrogate_or_strict"), mode, directory_mode, self._task.check_mode)
        except OSError as exc:
            fail(f"cannot write: {exc}", exc)

        result.update(changed=update.changed, dest=dest, mode=f"0{mode:03o}")
        if self._task.diff and update.changed:
            result["diff"] = update.diff(src)
        return result
