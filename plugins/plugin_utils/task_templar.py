# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible's templar, for evaluating the same task texts for many hosts (wgsdn.fabric.render_hosts).

A task runs once per host; Ansible 2.19 gives each run a new templar, hence a
new Jinja environment, compiles every argument and condition again (Jinja's
``from_string`` and ``compile_expression`` have no cache) and finalises every
result (a deep, tagged copy). At 1,000 hosts, with set_facts that hold a
device's route to every LAN of the overlay, that costs many times the
rendering itself. A TaskTemplar keeps one environment for every host, compiles
each text once and can hand back a data result as Python made it:

- ``template(value, variables)`` and ``condition(expression, variables)`` are
  Ansible's ``Templar.template`` and ``Templar.evaluate_conditional``;
- ``data(value, variables)`` is ``template`` without the finalisation of the
  result: a container result (a filter's dict, a variable's list) comes back
  as a shallow copy holding the very objects the expression produced, not a
  deep, tagged copy. For values that are data (no templates, no undefined
  values inside): what render tasks set and loop over.

The templar is Ansible's, passed in; this module imports no Ansible code. It
uses two attributes Ansible does not document (``Templar._engine`` and its
``environment``); ``supported(templar)`` tells whether they are there.
"""

import functools


def supported(templar):
    """Whether ``templar`` has the engine methods a TaskTemplar uses (Ansible 2.19 and later)."""
    engine = getattr(templar, "_engine", None)
    return engine is not None and hasattr(engine, "resolve_to_container") and hasattr(engine, "environment")


def _memoize(environment, name):
    """Cache ``environment.<name>(source, ...)`` per arguments, for sources without backslashes.

    Ansible escapes backslashes in string constants when it compiles a task's own text and not
    when Jinja compiles an include: with no backslash in the source both compile alike.
    """
    compile_ = getattr(environment, name)
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
        self._engine = self._templar._engine
        environment = self._engine.environment
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
        return self._engine.resolve_to_container(value)
