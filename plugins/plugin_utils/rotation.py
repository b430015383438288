# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make-before-break key rotation: the order in which new keys reach the live fabric.

A WireGuard interface has one private key, and both ends of a link must switch
to the new keys together. So a rotation is a sequence of *steps*; each step
switches a set of links that share an interface, and nothing else:

- a mesh link between two gateways (one point-to-point interface at each end);
- all the changed device links of one gateway at once (the gateway's access
  interface carries every attached device; a device has one interface per uplink).

Before a step switches, traffic is moved off every link of the step that has
another path (BGP sessions disabled on both ends of a mesh link; a dual-homed
device stops using the uplink and falls silent on its BFD session, so the gateway
withdraws it too), while the old keys still carry whatever is in flight. The
remaining links (single-homed devices, the only link between two gateways,
every link in hub and direct mode) switch at both ends at the same instant, so
they lose about one handshake. Unmanaged clients get their new configuration
from playbooks/clients.yml.
"""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import CLIENT, GATEWAY, ROUTED
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.topology import MESH_LINK, bgp_neighbors, link_interface, uplink_sessions


def rotated_hosts(plan, rotate):
    """The host names ``rotate`` names (``["all"]``, a list, or a comma-separated string). Raises PlanError."""
    names = rotate.split(",") if isinstance(rotate, str) else list(rotate or ())
    if names == ["all"]:
        return set(plan["hosts"])
    for name in names:
        if name not in plan["hosts"]:
            raise PlanError(name, "wgsdn_rotate_keys", "is not a host of the overlay; give host names or 'all'")
    return set(names)


def steps(plan, rotate):
    """The ordered steps that bring the rotated keys onto the fabric.

    Each step: ``name``; ``links`` (``[a, b]`` pairs it switches); ``apply``
    (``{host: [interfaces]}`` to switch at the same instant); ``drain``
    (``{host: {"protocols", "silence", "bfd_peers"}}``: BIRD protocols to disable,
    interfaces on which to stop sending BFD, neighbour addresses whose BFD session
    must go down before the switch and come back after); ``hitless`` (every link
    of the step had another path); ``unmanaged`` (clients that need their new
    configuration).
    """
    names = rotated_hosts(plan, rotate)
    changed = [link for link in plan["links"] if link["a"] in names or link["b"] in names]
    if not changed:
        return []
    if plan["mode"] != ROUTED:
        return [_shared_interface_step(plan, changed)]
    mesh = [link for link in plan["links"] if link["kind"] == MESH_LINK]
    result = [_mesh_step(plan, link, mesh) for link in changed if link["kind"] == MESH_LINK]
    for gateway in (n for n, h in plan["hosts"].items() if h["role"] == GATEWAY):
        attached = [link for link in changed if link["kind"] != MESH_LINK and gateway in (link["a"], link["b"])]
        if attached:
            result.append(_access_step(plan, gateway, attached))
    return result


def _step(name, links, apply, drain=None, hitless=True, unmanaged=()):
    return {
        "name": name,
        "links": [[link["a"], link["b"]] for link in links],
        "apply": apply,
        "drain": drain or {},
        "hitless": hitless,
        "unmanaged": sorted(unmanaged),
    }


def _shared_interface_step(plan, changed):
    """Hub and direct mode: one interface per host, no routing to move traffic; everything switches at once."""
    hosts = plan["hosts"]
    ends = {n for link in changed for n in (link["a"], link["b"])}
    managed = sorted(n for n in ends if hosts[n]["role"] != CLIENT)
    clients = [n for n in ends if hosts[n]["role"] == CLIENT]
    return _step("all links", changed, {n: [plan["interface"]] for n in managed}, hitless=False, unmanaged=clients)


def _mesh_step(plan, link, mesh):
    a, b = link["a"], link["b"]
    hosts = plan["hosts"]
    apply = {a: [link_interface(hosts[b]["link_name"])], b: [link_interface(hosts[a]["link_name"])]}
    if not _connected_without(mesh, link):
        return _step(f"{a} - {b}", [link], apply, hitless=False)
    drain = {
        a: _drain([s["name"] for s in bgp_neighbors(plan, a) if s["peer"] == b]),
        b: _drain([s["name"] for s in bgp_neighbors(plan, b) if s["peer"] == a]),
    }
    return _step(f"{a} - {b}", [link], apply, drain)


def _access_step(plan, gateway, links):
    """Every changed link between ``gateway`` and its attached hosts: they share its access interface."""
    hosts = plan["hosts"]
    apply = {gateway: [plan["interface"]]}
    drain = {}
    hitless = True
    unmanaged = []
    for link in links:
        other = link["b"] if link["a"] == gateway else link["a"]
        host = hosts[other]
        if host["role"] == CLIENT:
            unmanaged.append(other)
            hitless = False
            continue
        interface = link_interface(hosts[gateway]["link_name"])
        apply[other] = [interface]
        if len(host["uplinks"]) < 2:
            hitless = False
            continue
        protocols = [s["name"] for s in uplink_sessions(plan, other) if s["peer"] == gateway]
        drain[other] = _drain(protocols, silence=[interface], bfd_peers=sorted(hosts[gateway]["addresses"].values()))
        drain.setdefault(gateway, _drain([]))["bfd_peers"].extend(sorted(host["addresses"].values()))
    return _step(f"{gateway} and its attached hosts", links, apply, drain, hitless, unmanaged)


def _drain(protocols, silence=(), bfd_peers=()):
    return {"protocols": list(protocols), "silence": list(silence), "bfd_peers": list(bfd_peers)}


def _connected_without(mesh, removed):
    """Whether the two ends of ``removed`` still reach each other over the other mesh links."""
    neighbours = {}
    for link in mesh:
        if link is not removed:
            neighbours.setdefault(link["a"], set()).add(link["b"])
            neighbours.setdefault(link["b"], set()).add(link["a"])
    seen, todo = {removed["a"]}, [removed["a"]]
    while todo:
        for other in neighbours.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return removed["b"] in seen
