# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""BIRD's protocols as ``birdc show protocols`` prints them: which are enabled.

Host-side, standard library only. BIRD shows a protocol it was told to disable
(``birdc disable``, or ``disabled;`` in its configuration) in state ``down``; a
protocol that is enabled but has no session (a dead neighbour) is ``start``, not
``down``. Whether a session is up is the network's state, not drift of this host.
"""


def enabled(show_protocols):
    """``{name: enabled}`` of every protocol in ``birdc show protocols`` output."""
    result = {}
    for line in show_protocols.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] in ("BIRD", "Name") or fields[0].isdigit():
            continue
        result[fields[0]] = fields[3] != "down"
    return result
