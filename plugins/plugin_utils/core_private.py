# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast render's use of ansible-core internals: the only file of the collection that touches them.

``wgsdn.fabric.render_hosts`` renders every host of playbooks/render.yml in one
controller task. It is fast because it evaluates each task text once for all
hosts and hands data results back as Python made them (Ansible 2.19 gives each
task run a new templar, compiles every argument and condition again and
finalises every result into a deep, tagged copy; at 1,000 hosts that costs many
times the rendering). That needs what ansible-core does not publish:

- ``Templar._engine`` (its ``TemplateEngine``), the engine's ``environment``
  (the Jinja environment, whose ``compile`` and ``compile_expression`` are
  memoised here per source text) and ``resolve_to_container`` (a template's
  result without finalisation);
- ``VariableManager._inventory``, for the ``Host`` objects ``get_vars`` takes
  (an action has no public way to the inventory);
- ``ansible.template.generate_ansible_template_vars`` and ``trust_as_template``:
  public in 2.19 to 2.21, the first deprecated for 2.23.

``FastRender(templar, variable_manager)`` makes every one of those accesses at
once, each guarded, and tries the result on a small template; anything missing
or behaving differently raises ``Unsupported`` naming it. The action then
renders nothing and says so (``fast: false``), and playbooks/render.yml renders
host by host with ordinary tasks (``ansible.builtin.include_role`` of each
role's ``tasks/render.yml``, public APIs only): an ansible-core change costs
speed, never correctness. ``WGSDN_RENDER_FAST=0`` in the controller's
environment takes that path on purpose (the golden tests render both ways).

A ``TaskTemplar`` evaluates task texts for any host's variables:

- ``template(value, variables)`` and ``condition(expression, variables)`` are
  Ansible's ``Templar.template`` and ``Templar.evaluate_conditional``;
- ``data(value, variables)`` is ``template`` without the finalisation of the
  result: a container result (a filter's dict, a variable's list) comes back
  as a shallow copy holding the very objects the expression produced, not a
  deep, tagged copy. For values that are data (no templates, no undefined
  values inside): what render tasks set and loop over.
"""

import functools
import os

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import shown

FORCE_VARIABLE = "WGSDN_RENDER_FAST"


class Unsupported(Exception):
    """This ansible-core lacks (or changed) something the fast render uses; render host by host instead."""


def _core_version():
    try:
        from ansible.release import __version__  # noqa: PLC0415  (public; only for the message)
    except ImportError:
        return "this ansible-core"
    return f"ansible-core {__version__}"


def _attribute(obj, name, what):
    """``obj.<name>``, or Unsupported naming ``what``."""
    try:
        return getattr(obj, name)
    except AttributeError:
        raise Unsupported(f"{_core_version()} has no {what}") from None


def _memoize(environment, name):
    """Cache ``environment.<name>(source, ...)`` per arguments, for sources without backslashes.

    Ansible escapes backslashes in string constants when it compiles a task's own text and not
    when Jinja compiles an include: with no backslash in the source both compile alike.
    """
    compile_ = _attribute(environment, name, f"Jinja environment method {name} on the template engine")
    cache = {}

    @functools.wraps(compile_)
    def cached(source, *args, **kwargs):
        if not isinstance(source, str) or "\\" in source:
            return compile_(source, *args, **kwargs)
        key = (source, args, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = compile_(source, *args, **kwargs)
        return cache[key]

    setattr(environment, name, cached)


class TaskTemplar:
    """One templar (copied from ``templar``) that evaluates task texts for any host's variables."""

    def __init__(self, templar, searchpath=None):
        self._templar = templar.copy_with_new_env(available_variables={}, searchpath=searchpath)
        engine = _attribute(self._templar, "_engine", "Templar._engine")
        self._resolve = _attribute(engine, "resolve_to_container", "TemplateEngine.resolve_to_container")
        environment = _attribute(engine, "environment", "TemplateEngine.environment")
        _memoize(environment, "compile")  # what from_string compiles: templates
        _memoize(environment, "compile_expression")  # conditions

    def template(self, value, variables, **options):
        """``Templar.template(value, **options)`` with ``variables``."""
        self._templar.available_variables = variables
        return self._templar.template(value, **options)

    def condition(self, expression, variables):
        """``Templar.evaluate_conditional(expression)`` with ``variables``."""
        self._templar.available_variables = variables
        return self._templar.evaluate_conditional(expression)

    def data(self, value, variables):
        """``value`` templated with ``variables``; a container result is returned unfinalised (not copied)."""
        self._templar.available_variables = variables
        return self._resolve(value)


class FastRender:
    """What the fast render needs of ansible-core, every access made and tried here; Unsupported otherwise."""

    def __init__(self, templar, variable_manager):
        if os.environ.get(FORCE_VARIABLE, "").strip().lower() in ("0", "false", "no", "off"):
            raise Unsupported(f"{FORCE_VARIABLE}={os.environ[FORCE_VARIABLE]} is set")
        self._base = templar
        inventory = _attribute(variable_manager, "_inventory", "VariableManager._inventory")
        self._get_host = _attribute(inventory, "get_host", "get_host on the variable manager's inventory")
        try:
            from ansible import template  # noqa: PLC0415  (here, so a change fails the fast render only)
        except ImportError as exc:  # pragma: no cover - ansible.template is where Templar lives
            raise Unsupported(f"{_core_version()}: {exc}") from None
        self.trust = _attribute(template, "trust_as_template", "ansible.template.trust_as_template")
        self._template_vars = _attribute(template, "generate_ansible_template_vars", "ansible.template.generate_ansible_template_vars")
        self._try()

    def _try(self):
        """Evaluate a little of everything the render does; Unsupported when a result differs or anything fails."""
        try:
            probe = self.templar()
            items = [{"name": "a"}]
            checks = {
                "data": probe.data(self.trust("{{ items }}"), {"items": items}),
                "template": probe.template(self.trust("{{ items[0].name | upper }}"), {"items": items}),
                "condition": probe.condition(self.trust("items | length == 1"), {"items": items}),
            }
        except Unsupported:
            raise
        except Exception as exc:  # any change of the internals: the ordinary path still works
            raise Unsupported(f"{_core_version()}: the template engine failed a check ({type(exc).__name__}: {exc})") from None
        expected = {"data": items, "template": "A", "condition": True}
        if checks != expected or checks["data"][0] is not items[0]:
            raise Unsupported(f"{_core_version()}: the template engine answered {shown(checks)}, not {shown(expected)}")

    def templar(self, searchpath=None):
        """A TaskTemplar from the action's templar (its own Jinja environment, with ``searchpath``)."""
        return TaskTemplar(self._base, searchpath=searchpath)

    def host(self, name):
        """The inventory's Host ``name`` (what VariableManager.get_vars takes), or None."""
        return self._get_host(name)

    def template_vars(self, path, fullpath, dest_path):
        """The variables the template lookup adds for a template (``template_path``, ``ansible_managed``, ...)."""
        return self._template_vars(path=path, fullpath=fullpath, dest_path=dest_path)
