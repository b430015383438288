# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adapter from plain plugin_utils functions to Jinja filters (the one place filters meet Ansible errors)."""

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import PlanError


def plan_filter(function, errors=(PlanError,)):
    """``function`` as a filter: the listed errors become AnsibleFilterError with the same message."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except errors as exc:
            raise AnsibleFilterError(str(exc)) from None

    return wrapper
