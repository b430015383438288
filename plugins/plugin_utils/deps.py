# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's optional Python packages: netaddr, cryptography (and segno, for the qrcode module;
psycopg, for the postgresql state backend).

plugin_utils modules import them with ``optional`` so that every plugin loads, and ansible-doc or
galaxy-importer shows its documentation, with ansible-core alone. A plugin calls ``require`` before
its work and fails with Ansible's ``missing_required_lib`` message naming the package to install.
"""

import functools
import importlib

PLAN_PACKAGES = ("netaddr", "cryptography")

_IMPORT_ERRORS = {}


def optional(module):
    """The imported ``module``, or None when it (or its package) is missing; the error is kept for ``require``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        _IMPORT_ERRORS[module.split(".")[0]] = f"{type(exc).__name__}: {exc}"
        return None


def missing(packages=PLAN_PACKAGES):
    """The first of ``packages`` that failed to import, else None."""
    return next((package for package in packages if package in _IMPORT_ERRORS), None)


def require(error, packages=PLAN_PACKAGES):
    """Raise ``error`` (an AnsibleError class) with missing_required_lib's message if one of ``packages`` is missing."""
    package = missing(packages)
    if package is not None:
        from ansible.module_utils.basic import missing_required_lib  # noqa: PLC0415 (only on the failure path)

        raise error(f"{missing_required_lib(package)} ({_IMPORT_ERRORS[package]})")


def requires(error, packages=PLAN_PACKAGES):
    """Decorator: ``require`` before each call of the decorated function."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            require(error, packages)
            return function(*args, **kwargs)

        return wrapper

    return decorate
