# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The overlay as a diagram: Graphviz DOT and Mermaid, drawn from the plan."""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import policy
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import GATEWAY
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.topology import MESH_LINK, UPLINK

FORMATS = ("dot", "mermaid")

# How each kind of link (topology's link kinds) is drawn: a gateway mesh link
# carries eBGP and BFD, a routed device's uplink is watched by BFD, everything
# else is a plain tunnel.
_DRAWN = {MESH_LINK: "bgp", UPLINK: "bfd"}


def links(plan):
    """``(a, b, kind)`` for every WireGuard link of the plan: ``bgp``, ``bfd`` or ``wireguard``."""
    return [(link["a"], link["b"], _DRAWN.get(link["kind"], "wireguard")) for link in plan["links"]]


def _label(name, host, separator):
    parts = [name, *host["addresses"].values()]
    if host.get("asn"):
        parts.append(f"AS{host['asn']}")
    if host.get("route_reflector"):
        parts.append("route reflector")
    parts.extend(host["subnets"])
    parts.extend(f"service {s['name']} {s['address']}" for s in host.get("services", []))
    return separator.join(parts)


def external_peers(plan):
    """``(gateway, node id, label lines, edge label)`` for every external BGP peer (wgsdn_bgp_peers)."""
    result = []
    for name, host in plan["hosts"].items():
        for peer in host.get("bgp_peers", []):
            label = [peer["name"], peer["address"], f"AS{peer['asn']}", *peer["import"]]
            edge = "eBGP" + (" + BFD" if peer["bfd"] else "") + (" + MD5" if peer.get("password_symbol") else "")
            result.append((name, f"ext {name} {peer['name']}", label, edge))
    return result


def to_dot(plan):
    design = f", route reflectors {', '.join(plan['reflectors'])}" if plan.get("reflectors") else ""
    lines = [
        "graph wgsdn {",
        f'  label="wgsdn overlay {plan["network"]} ({plan["mode"]}{design})"; labelloc=t; fontname="Helvetica";',
        '  node [fontname="Helvetica", fontsize=10]; edge [fontname="Helvetica", fontsize=9];',
    ]
    for name, host in plan["hosts"].items():
        shape = 'shape=box, style="rounded,bold,filled", fillcolor="#dbe9f6"' if host["role"] == GATEWAY else 'shape=ellipse, style=filled, fillcolor="#f3f3f3"'
        label = _label(name, host, "\\n")
        if host.get("route_reflector"):
            shape += ", peripheries=2"
        lines.append(f'  "{name}" [{shape}, label="{label}"];')
    for a, b, kind in links(plan):
        style = {
            "bgp": 'style=bold, color="#1f5fa8", label="eBGP + BFD"',
            "bfd": 'label="BFD", color="#555555"',
        }.get(kind, 'color="#555555"')
        lines.append(f'  "{a}" -- "{b}" [{style}];')
    for gateway, node, label, edge in external_peers(plan):
        text = "\\n".join(label)
        lines.append(f'  "{node}" [shape=box, style="dashed,filled", fillcolor="#fdf1d8", label="{text}"];')
        lines.append(f'  "{gateway}" -- "{node}" [style=dashed, color="#a86a1f", label="{edge}"];')
    legend = policy.legend(plan)  # under a wgsdn_policy: who may reach whom, as a note
    if legend:
        text = "\\l".join(line.replace('"', "'") for line in legend) + "\\l"
        lines.append(f'  "wgsdn_policy" [shape=note, style=filled, fillcolor="#fff5d6", fontsize=9, label="{text}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_id(name):
    return "n_" + "".join(c if c.isalnum() else "_" for c in name)


def to_mermaid(plan):
    lines = [f"# wgsdn overlay {plan['network']} ({plan['mode']})", ""]
    if plan.get("reflectors"):
        lines.extend([f"Route reflectors: {', '.join(plan['reflectors'])}; the other gateways peer with them only.", ""])
    lines.extend(["```mermaid", "graph LR"])
    for name, host in plan["hosts"].items():
        label = _label(name, host, "<br/>")
        node = f'{_mermaid_id(name)}["{label}"]' if host["role"] == GATEWAY else f'{_mermaid_id(name)}("{label}")'
        lines.append(f"  {node}")
    for a, b, kind in links(plan):
        arrow = {"bgp": "==eBGP + BFD===", "bfd": "---|BFD|"}.get(kind, "---")
        lines.append(f"  {_mermaid_id(a)} {arrow} {_mermaid_id(b)}")
    for gateway, node, label, edge in external_peers(plan):
        text = "<br/>".join(label)
        lines.append(f'  {_mermaid_id(node)}[/"{text}"/]')
        lines.append(f"  {_mermaid_id(gateway)} -.-|{edge}| {_mermaid_id(node)}")
    legend = policy.legend(plan)
    if legend:
        lines.append('  wgsdn_policy["' + "<br/>".join(line.replace('"', "'").replace(">", "&gt;") for line in legend) + '"]')
    lines.append("```")
    return "\n".join(lines) + "\n"


def render(plan, fmt="dot"):
    if fmt == "dot":
        return to_dot(plan)
    if fmt == "mermaid":
        return to_mermaid(plan)
    raise ValueError(f"unknown diagram format {shown(fmt)}; use one of {', '.join(FORMATS)}")
