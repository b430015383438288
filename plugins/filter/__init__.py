# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adapter from plain plugin_utils functions to Jinja filters: the one place filters meet Ansible errors.

The package of the filter plugins (the loader reads only the plugin files); every filter wraps its function here.
"""

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import require
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.memo import shared_for_read_only_plans


def plan_filter(function, errors=(PlanError,), describe=None):
    """``function`` as a filter: the listed errors become AnsibleFilterError.

    ``describe(exc, *args)`` words the message; by default it is the error's own text.
    Without netaddr or cryptography the filter fails with missing_required_lib's message.
    A read-only plan (the fast render's) shares results between equal calls (plugin_utils/memo.py).
    """
    shared = shared_for_read_only_plans(function)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        require(AnsibleFilterError)
        try:
            return shared(*args, **kwargs)
        except errors as exc:
            raise AnsibleFilterError(describe(exc, *args) if describe else str(exc)) from None

    return wrapper
