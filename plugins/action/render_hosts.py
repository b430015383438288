# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for wgsdn.fabric.render_hosts: every play host's render tasks, run in one controller task.

playbooks/render.yml used to include each role's tasks/render.yml for every
host: Ansible's per-host, per-task cost (about 0.5 s a host) and the template
lookup's deep copy of every variable (the plan included) for every file made a
1,000-host render take minutes. This action reads the same task files and
runs them here, once per host, with the variables Ansible would give them.

What it needs of ansible-core beyond the public plugin API is in
plugin_utils/core_private.py. When that is not available it renders nothing
and returns ``fast: false``; playbooks/render.yml then includes each role's
render tasks host by host, the ordinary way, which writes the same files.
"""

import json
import os
from types import MappingProxyType

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader
from ansible.utils.display import Display
from ansible.utils.vars import combine_vars

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import core_private, files, render_tasks

ARGUMENT_SPEC = {
    "roles": {"type": "list", "elements": "str", "required": True},
    "hosts": {"type": "list", "elements": "str"},
}

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        try:
            roles = [render_tasks.load_role(self._loader, COLLECTION_ROOT, name) for name in args["roles"]]
        except render_tasks.RenderTaskError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        hosts = args["hosts"] if args["hosts"] is not None else task_vars["ansible_play_hosts"]
        manager = self._task.get_variable_manager()
        try:
            core = core_private.FastRender(self._templar, manager)
        except core_private.Unsupported as exc:
            Display().warning(
                f"wgsdn.fabric.render_hosts: the fast render is not available ({exc}); rendering host by host with ordinary tasks (slower, the same files)"
            )
            result.update(changed=False, fast=False, reason=str(exc), hosts=0, files=0, changed_files=[])
            return result
        play = self._task.get_play()
        extra_vars = manager.extra_vars
        lookup = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)

        templar = core.templar()
        written, changed, diffs, plan, templars = 0, [], [], None, {}
        for host in hosts:
            # Exactly what a task of this play sees for that host (inventory, facts such as
            # wgsdn_plan, play vars, magic variables, extra vars).
            host_vars = manager.get_vars(play=play, host=core.host(host), task=self._task)
            if plan is None:
                plan = host_vars.get("wgsdn_plan")
                plan_view = MappingProxyType(plan) if isinstance(plan, dict) else plan
            # The plan is data, not templates: read-only and unwrapped, it costs no lazy templating per access.
            if host_vars.get("wgsdn_plan") is plan:
                host_vars["wgsdn_plan"] = plan_view
            facts = {}
            for role in roles:
                # Role defaults below everything, role vars above the inventory; facts set by
                # render tasks above both; extra vars win, as always.
                base = combine_vars(combine_vars(combine_vars(role.defaults, host_vars), role.vars), facts)
                base = combine_vars(base, extra_vars)
                base.update(role_path=role.path, role_name=role.name, ansible_search_path=[role.path, task_vars.get("playbook_dir", "")])
                for step in render_tasks.steps(role, base, templar, extra_vars):
                    if step.facts is not None:
                        facts.update(step.facts)
                        continue
                    written += 1
                    update = self._render(core, lookup, host, role, step, templars)
                    if update.changed:
                        changed.append(update.path)
                        if self._task.diff and step.diff:
                            diffs.extend(update.diff(step.src))
        result.update(changed=bool(changed), fast=True, hosts=len(hosts), files=written, changed_files=changed)
        if diffs:
            result["diff"] = diffs
        return result

    def _render(self, core, lookup, host, role, step, templars):
        def fail(message, cause=None):
            raise AnsibleActionFail(f"{host}: {step.dest}: {message}") from cause

        try:
            mode, directory_mode = files.parse_mode(step.mode), files.parse_mode(step.directory_mode)
        except ValueError as exc:
            fail(str(exc))
        try:
            rendered = self._template(core, lookup, step, templars)
        except AnsibleError as exc:
            fail(f"cannot render {step.src} of {role.name}: {exc.message}", exc)
        try:
            return files.render(step.dest, to_bytes(rendered, errors="surrogate_or_strict"), mode, directory_mode, self._task.check_mode)
        except OSError as exc:
            fail(f"cannot write: {exc}", exc)

    def _template(self, core, lookup, step, templars):
        """What the ansible.builtin.template lookup returns for ``step``, with the template compiled once per run.

        The lookup compiles the whole template again for every file (Jinja's from_string has no
        cache). Here the file is the one the lookup would find, searched the same way (the
        role's templates/ first), rendered with the same variables and generated template
        variables, through a one-line template that includes it: Jinja compiles an included
        template once per environment, and one environment (templar) per template directory
        serves every host.
        """
        variables = step.variables
        found = lookup.find_file_in_search_path(variables, "templates", step.src, ignore_missing=True)
        if not found:
            raise AnsibleError(f"the template file {step.src} could not be found for the lookup")
        directory = os.path.dirname(found)
        if directory not in templars:
            searchpath = [directory]
            for path in variables.get("ansible_search_path", []):
                searchpath += [os.path.join(path, "templates"), path]
            templars[directory] = (core.templar(searchpath=searchpath), {})
        templar, trailing = templars[directory]
        if found not in trailing:
            source = self._loader.get_text_file_contents(found)
            trailing[found] = len(source) - len(source.rstrip("\n"))
        generated = core.template_vars(path=step.src, fullpath=found, dest_path=step.dest)
        if "ansible_managed" in variables:  # as the lookup does: never clobber the user's own
            del generated["ansible_managed"]
        wrapper = core.trust("{% include " + json.dumps(os.path.basename(found)) + " %}")
        rendered = templar.template(wrapper, {**variables, **generated}, escape_backslashes=False)
        # Jinja drops an included template's trailing newlines; a top-level template keeps as many
        # as its source ends with (Ansible's preserve_trailing_newlines): add them back the same way.
        return rendered + "\n" * max(0, trailing[found] - (len(rendered) - len(rendered.rstrip("\n"))))
