# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error of the planning code: bad inventory or state, naming the host and the variable."""


class PlanError(ValueError):
    """Invalid inventory or state, naming the host and the variable at fault."""

    def __init__(self, host, variable, message):
        self.host = host
        self.variable = variable
        where = f"host '{host}'" if host else "overlay"
        super().__init__(f"wgsdn: {where}, variable '{variable}': {message}")
