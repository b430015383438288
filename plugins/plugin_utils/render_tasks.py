# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a role's ``tasks/render.yml`` for one host without Ansible's per-host task machinery.

``wgsdn.fabric.render_hosts`` (playbooks/render.yml) renders every host in
one controller task. It does not keep a second description of what each role
renders: it reads the role's own ``tasks/render.yml`` (the file a playbook
would include with ``tasks_from: render``) and runs it here. Those files may
only hold the task shapes below; anything else fails the render by name, so a
role can never be rendered half-way or differently from its task file:

- ``ansible.builtin.import_tasks: FILE`` (FILE under the role's ``tasks/``),
  with an optional ``when`` that applies to every imported task;
- ``ansible.builtin.set_fact`` (the fact stays set for the host's later roles,
  as a fact does); its values, and ``loop``, must evaluate to data (no
  templates or undefined values inside): they are kept as the expression
  made them, not finalised (deep-copied) as Ansible would;
- ``wgsdn.fabric.render_template`` with ``src``, ``dest``, ``mode``,
  ``directory_mode``;

each with the keywords ``name``, ``when``, ``vars``, ``loop``,
``loop_control`` (``loop_var``, ``label``), ``no_log``, ``diff``, ``delegate_to``.

The loader is Ansible's and the templar a ``core_private.TaskTemplar``,
passed in; this module imports no Ansible code.
"""

import dataclasses
import os
from types import MappingProxyType

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import shown

FQCN_IMPORT = "ansible.builtin.import_tasks"
FQCN_SET_FACT = "ansible.builtin.set_fact"
FQCN_RENDER = "wgsdn.fabric.render_template"
ACTIONS = (FQCN_IMPORT, FQCN_SET_FACT, FQCN_RENDER)
KEYWORDS = {"name", "when", "vars", "loop", "loop_control", "no_log", "diff", "delegate_to"}
COLLECTION = "wgsdn.fabric."


class RenderTaskError(Exception):
    """A role's render tasks use something this runner does not do."""


@dataclasses.dataclass
class Role:
    name: str
    path: str
    defaults: dict
    vars: dict
    tasks: list  # (task, inherited when conditions)


@dataclasses.dataclass
class Step:
    """One thing to do for a host: facts to set, or a file to render (``variables`` are those of the template)."""

    facts: dict | None = None
    src: str = ""
    dest: str = ""
    mode: object = "0644"
    directory_mode: object = "0755"
    variables: dict | None = None
    diff: bool = True


def _load(loader, path, default):
    if not os.path.exists(path):
        return default
    data = loader.load_from_file(path, trusted_as_template=True)
    return default if data is None else data


def _short(name):
    return name[len(COLLECTION) :] if name.startswith(COLLECTION) else name


def _defaults(loader, root, name, seen):
    """Defaults of ``name`` over those of its dependencies, in Ansible's order (dependencies first)."""
    if name in seen:
        return {}
    seen.add(name)
    path = os.path.join(root, "roles", name)
    merged = {}
    for dep in (_load(loader, os.path.join(path, "meta", "main.yml"), {}) or {}).get("dependencies") or []:
        dep_name = dep.get("role") or dep.get("name") if isinstance(dep, dict) else dep
        if not str(dep_name).startswith(COLLECTION):
            raise RenderTaskError(f"role {name}: dependency {dep_name} is not a role of this collection")
        merged.update(_defaults(loader, root, _short(str(dep_name)), seen))
    merged.update(_load(loader, os.path.join(path, "defaults", "main.yml"), {}))
    return merged


def _flatten(loader, role_path, filename, when, role_name):
    """The tasks of ``filename`` with their imports expanded: [(task, inherited conditions)]."""
    tasks = []
    for task in _load(loader, os.path.join(role_path, "tasks", filename), []):
        actions = [key for key in task if key in ACTIONS]
        unknown = [key for key in task if key not in ACTIONS and key not in KEYWORDS]
        if len(actions) != 1 or unknown:
            raise RenderTaskError(
                f"role {role_name}, tasks/{filename}, task {shown(task.get('name', '?'))}: the fast render runs only "
                f"{', '.join(ACTIONS)} with {', '.join(sorted(KEYWORDS))} (found {', '.join(unknown or actions) or 'no action'})"
            )
        if isinstance(task.get("loop_control"), dict) and set(task["loop_control"]) - {"loop_var", "label"}:
            raise RenderTaskError(f"role {role_name}, tasks/{filename}: loop_control may only set loop_var and label")
        conditions = when + _conditions(task.get("when"))
        if actions[0] == FQCN_IMPORT:
            if set(task) - {"name", "when", FQCN_IMPORT}:
                raise RenderTaskError(f"role {role_name}, tasks/{filename}: an import_tasks may only have a name and a when")
            tasks.extend(_flatten(loader, role_path, task[FQCN_IMPORT], conditions, role_name))
        else:
            tasks.append((task, conditions))
    return tasks


def _conditions(when):
    if when is None:
        return []
    return list(when) if isinstance(when, list) else [when]


def load_role(loader, root, name):
    """The Role ``name`` (``wgsdn.fabric.X`` or ``X``) of the collection at ``root``, with its render tasks."""
    short = _short(name)
    path = os.path.join(root, "roles", short)
    if not os.path.exists(os.path.join(path, "tasks", "render.yml")):
        raise RenderTaskError(f"role {name} has no tasks/render.yml (the fast render runs that file)")
    return Role(
        name=COLLECTION + short,
        path=path,
        defaults=_defaults(loader, root, short, set()),
        vars=_load(loader, os.path.join(path, "vars", "main.yml"), {}),
        tasks=_flatten(loader, path, "render.yml", [], name),
    )


def read_only(value):
    """A dict as a read-only view, anything else as it is.

    Ansible wraps every dict and list a template reaches through its variables in a lazy
    container that checks each access for templates; a view is not wrapped, nor is what a
    template reaches through it. The values are data (a filter's result), so nothing is lost.
    """
    return MappingProxyType(value) if isinstance(value, dict) else value


def steps(role, variables, templar, extra_vars):
    """Run ``role``'s render tasks with ``variables`` (one host's); yield a Step per fact set or file.

    ``templar`` evaluates task texts for given variables: ``template(value, variables)``,
    ``condition(expression, variables)`` and ``data(value, variables)`` (a template whose result
    is kept as the expression made it; set_fact values and loops, which hold data). Facts are
    also written into ``variables`` (under ``extra_vars``, which keep precedence) so later tasks see them.
    """
    for task, conditions in role.tasks:
        action = FQCN_SET_FACT if FQCN_SET_FACT in task else FQCN_RENDER
        loop_var = (task.get("loop_control") or {}).get("loop_var", "item")
        task_vars = task.get("vars") or {}
        items = templar.data(task["loop"], {**variables, **task_vars}) if "loop" in task else [None]
        for item in items:
            local = {**variables, **task_vars}
            if "loop" in task:
                local[loop_var] = read_only(item)
            if not all(templar.condition(c, local) for c in conditions):
                continue
            if action == FQCN_SET_FACT:
                facts = {key: read_only(templar.data(value, local)) for key, value in task[FQCN_SET_FACT].items()}
                variables.update(facts)
                variables.update({key: value for key, value in extra_vars.items() if key in facts})
                yield Step(facts=facts)
                continue
            args = templar.template(task[FQCN_RENDER], local)
            unknown = set(args) - {"src", "dest", "mode", "directory_mode"}
            if unknown:
                raise RenderTaskError(f"role {role.name}: render_template option(s) {', '.join(sorted(unknown))} are not supported by the fast render")
            yield Step(
                src=args["src"],
                dest=args["dest"],
                mode=args.get("mode", "0644"),
                directory_mode=args.get("directory_mode", "0755"),
                variables=local,
                diff=task.get("diff", True) is not False and not task.get("no_log", False),
            )
