# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Share a plan function's result between calls on the same read-only plan with the same arguments.

wgsdn.fabric.render_hosts hands the filters the plan as a read-only view
(``types.MappingProxyType``) that stays the same object, unchanged, for the
whole render; the bfd and bird roles both ask ``bird_settings`` for the same
host, one after the other. For such a plan the last few results of a function
are kept, keyed by its other arguments (defaults applied, so
``f(plan, "h")`` and ``f(plan, "h", device_bgp=True)`` are one call). Any
other plan (a dict, Ansible's own containers: a converge, a playbook's
set_fact) is not remembered. The results are shared, not copied: they are
data, which templates read and nothing writes.
"""

import functools
import inspect
from types import MappingProxyType

SIZE = 4

_plan_cache = [None, {}]  # the read-only plan and what functions keep for it


def plan_cache(plan, name):
    """A dict where ``name`` may keep values derived from ``plan`` while it is the current read-only plan; None for any other plan."""
    if not isinstance(plan, MappingProxyType):
        return None
    if _plan_cache[0] is not plan:
        _plan_cache[:] = [plan, {}]
    return _plan_cache[1].setdefault(name, {})


def per_plan(plan, name, compute):
    """``compute(plan)``, computed once while ``plan`` is the current read-only plan (callers must not change it)."""
    cache = plan_cache(plan, name)
    if cache is None:
        return compute(plan)
    if "value" not in cache:
        cache["value"] = compute(plan)
    return cache["value"]


def shared_for_read_only_plans(function, size=SIZE):
    """``function(plan, ...)``, remembering its last ``size`` results for the current read-only ``plan``
    (kept in ``plan_cache``, so they go with the plan)."""
    signature = inspect.signature(function)
    name = ("shared", function.__module__, function.__qualname__)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        cache = plan_cache(args[0] if args else None, name)
        if cache is None:
            return function(*args, **kwargs)
        try:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            key = tuple(bound.arguments.items())[1:]
            hash(key)
        except TypeError:
            return function(*args, **kwargs)
        if key in cache:
            cache[key] = cache.pop(key)  # the most recently used last
            return cache[key]
        result = cache[key] = function(*args, **kwargs)
        if len(cache) > size:
            del cache[next(iter(cache))]
        return result

    return wrapper
