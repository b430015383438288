# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What verify finds wrong, as data: a kind, the hosts it names (its subjects) and its text.

``verify.check_host`` returns its findings this way (and the same findings as text lines,
``host: text``, for people); ``absence.classify`` reads the kind and the subjects, never the
wording, to tell whether a problem is a consequence of another host being absent or broken.
"""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import shown

INTERFACE_MISSING = "interface-missing"
PEER_NOT_CONFIGURED = "peer-not-configured"
NO_HANDSHAKE = "no-handshake"
BGP_DOWN = "bgp-down"
REFLECTOR_DESIGN = "reflector-design"
BFD_DOWN = "bfd-down"
ROUTE_MISSING = "route-missing"
EXTERNAL_BGP_DOWN = "external-bgp-down"
BIRD_SILENT = "bird-silent"
LEFT_OVER = "left-over"
DRIFT = "drift"
UNREACHABLE = "unreachable"
POLICY = "policy"
KINDS = (
    INTERFACE_MISSING,
    PEER_NOT_CONFIGURED,
    NO_HANDSHAKE,
    BGP_DOWN,
    REFLECTOR_DESIGN,
    BFD_DOWN,
    ROUTE_MISSING,
    EXTERNAL_BGP_DOWN,
    BIRD_SILENT,
    LEFT_OVER,
    DRIFT,
    UNREACHABLE,
    POLICY,
)
# Faults of configuration: a host's own, whoever else is absent or broken.
CONFIGURATION = frozenset({PEER_NOT_CONFIGURED, REFLECTOR_DESIGN, LEFT_OVER})


def problem(kind, text, subjects=()):
    """One finding: ``kind`` (one of KINDS), the host names it is about besides the reporting host, its text."""
    if kind not in KINDS:
        raise ValueError(f"unknown problem kind {shown(kind)}")
    return {"kind": kind, "subjects": sorted(set(subjects)), "text": text}


def line(host_name, found):
    """The finding as a person reads it: ``host: text``."""
    return f"{host_name}: {found['text']}"
