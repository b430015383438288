# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: bird_settings
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Everything a host's BIRD configuration needs
description:
  - Router id, ASN, static routes, BGP sessions, the per-gateway origin table for import filters, and the interfaces BFD runs on.
  - C(enabled) is false outside routed mode; with no or one gateway no routing daemon is needed.
positional: host
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
options:
  device_bgp:
    description:
      - Devices learn their routes from their uplink gateways over BGP (the bird role's C(bird_device_bgp)).
      - False gives devices static multipath routes through their uplinks instead, and gateways no device sessions.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Is BIRD needed on this host?
  ansible.builtin.debug:
    msg: "{{ (wgsdn_plan | wgsdn.fabric.bird_settings(inventory_hostname)).enabled }}"
"""

RETURN = r"""
_value:
  description: Everything the host's bird.conf prints.
  type: dict
  contains:
    enabled:
      description: Whether the host runs BIRD for the overlay (C(routed) mode, a managed host); everything below is empty when false.
      type: bool
    router_id:
      description: "BIRD's router id: the IPv4 overlay address, on an IPv6-only overlay the low 32 bits of the IPv6 one."
      type: str
    role:
      description: C(gateway), C(device) or C(client).
      type: str
    local_as:
      description: A gateway's ASN; null on other hosts (devices use the bird role's C(bird_device_asn)).
      type: int
    overlay_asns:
      description: The first and last private AS number the overlay uses inside, deleted from paths sent to external peers.
      type: list
      elements: int
    network:
      description: The overlay prefix of the first family.
      type: str
    static_routes:
      description: The host's static routes, as the C(wgsdn.fabric.static_routes) filter returns them.
      type: list
      elements: dict
      contains:
        prefix:
          description: The destination prefix.
          type: str
        via:
          description: Next-hop overlay addresses in the prefix's family; empty for an own prefix.
          type: list
          elements: str
        bfd:
          description: Whether the next hops answer BFD.
          type: bool
        own:
          description: A prefix this host originates (announced, not installed).
          type: bool
    bgp_neighbors:
      description: A gateway's sessions with the other gateways, one per family (as C(wgsdn.fabric.bgp_neighbors) returns them), each with its C(channel).
      type: list
      elements: dict
      contains:
        name: &session_name
          description: The BIRD protocol name.
          type: str
        peer: &session_peer
          description: Inventory name of the other end.
          type: str
        neighbor: &session_neighbor
          description: The other end's overlay address in the session's family.
          type: str
        local: &session_local
          description: This host's overlay address in the session's family.
          type: str
        interface: &session_interface
          description: The point-to-point WireGuard interface the session runs over.
          type: str
        local_as:
          description: This gateway's ASN.
          type: int
        remote_as:
          description: The other gateway's ASN.
          type: int
        family: &session_family
          description: The session's address family, C(ipv4) or C(ipv6).
          type: str
        channel: &session_channel
          description: The entry of C(channels) of the session's family.
          type: dict
          contains: &channel
            name:
              description: The family's name in the plan, C(ipv4) or C(ipv6).
              type: str
            version:
              description: The IP version, 4 or 6.
              type: int
            label:
              description: The family as messages name it, C(IPv4) or C(IPv6).
              type: str
            network_variable:
              description: The inventory variable holding the family's overlay prefix.
              type: str
            address_variable:
              description: The inventory variable pinning a host's address in the family.
              type: str
            example:
              description: An example prefix of the family.
              type: str
            host_prefixlen:
              description: The prefix length of a single host, 32 or 128.
              type: int
            ip_option:
              description: iproute2's family switch, C(-4) or C(-6).
              type: str
            bird_channel:
              description: The BIRD channel, C(ipv4) or C(ipv6).
              type: str
            bird_net_type:
              description: BIRD's C(net.type) constant, C(NET_IP4) or C(NET_IP6).
              type: str
            bird_suffix:
              description: Appended to the family's BIRD protocol and filter names (empty for IPv4).
              type: str
            session_suffix:
              description: Appended to the family's BGP session names (empty for IPv4).
              type: str
            kernel_neighbour_routes:
              description: Whether BIRD may install a route to a link neighbour through itself (IPv6 refuses next hops behind such a route).
              type: bool
            kernel_metric_offset:
              description: Added to the kernel route metric, so the kernel's connected routes rank first.
              type: int
            forwarding_sysctl:
              description: The sysctl that makes a host forward the family.
              type: str
            state_key:
              description: The key of a host's address in the state file.
              type: str
            state_network_key:
              description: The key of the prefix the state file allocated from.
              type: str
            network:
              description: The family's overlay prefix.
              type: str
            prefixlen:
              description: The overlay prefix's length.
              type: int
            router_address:
              description: This host's overlay address in the family.
              type: str
            own_routes:
              description: The static routes of the family this host originates (see C(static_routes)).
              type: list
              elements: dict
              contains: &route
                prefix:
                  description: The destination prefix.
                  type: str
                via:
                  description: Next-hop overlay addresses; empty for an own prefix.
                  type: list
                  elements: str
                bfd:
                  description: Whether the next hops answer BFD.
                  type: bool
                own:
                  description: A prefix this host originates.
                  type: bool
            static_routes:
              description:
                - The static routes of the family this host installs, a gateway's routes to its devices or a device's
                  multipath routes through its uplinks when it does not learn them over BGP (O(device_bgp=false)).
              type: list
              elements: dict
              contains: *route
            routable:
              description: On a gateway, every prefix of the family some gateway may originate.
              type: list
              elements: str
            origins:
              description: On a gateway, per gateway with prefixes in the family, the ASN allowed to originate them.
              type: list
              elements: dict
              contains:
                asn:
                  description: The originating gateway's ASN.
                  type: int
                prefixes:
                  description: The prefixes of the family it may originate.
                  type: list
                  elements: str
            uplink_accept:
              description: What a device accepts from its uplinks, as BIRD prefix patterns (other hosts, others' LANs, services and external prefixes).
              type: list
              elements: str
            uplink_reject:
              description: The device's own host prefix, which it never accepts from an uplink.
              type: str
            services:
              description: This host's services in the family (see C(services) below).
              type: list
              elements: dict
              contains: &service
                name:
                  description: The service's name.
                  type: str
                address:
                  description: The service address.
                  type: str
                prefix:
                  description: The service address as a host prefix.
                  type: str
                family:
                  description: The family of the address.
                  type: str
                protocol:
                  description: The BIRD static protocol announcing it while the check passes.
                  type: str
                check:
                  description: How the checker tests the service; null when it is always announced.
                  type: dict
                  contains:
                    type:
                      description: C(tcp), C(http) or C(command).
                      type: str
                    port:
                      description: The TCP port (C(tcp)).
                      type: int
                    url:
                      description: The URL (C(http)).
                      type: str
                    command:
                      description: The command (C(command)).
                      type: str
                check_as_root:
                  description: Whether the check runs as root rather than the unprivileged check user.
                  type: bool
            service_import:
              description: On a gateway, the service prefixes it accepts from each attached device.
              type: list
              elements: dict
              contains:
                prefix:
                  description: The service prefix.
                  type: str
                from:
                  description: The device's overlay address in the family.
                  type: str
                device:
                  description: Inventory name of the device.
                  type: str
            aggregates:
              description: The prefixes the channel's static protocol of blackhole routes originates for external peers (every peer's aggregates, once).
              type: list
              elements: str
            bgp_peers:
              description: On a gateway, its external BGP peers (C(wgsdn_bgp_peers)) in the family, without their passwords.
              type: list
              elements: dict
              contains:
                name:
                  description: The peer's name.
                  type: str
                address:
                  description: The peer's underlay address.
                  type: str
                family:
                  description: The family of the address.
                  type: str
                asn:
                  description: The peer's ASN.
                  type: int
                import:
                  description: The prefixes accepted from the peer.
                  type: list
                  elements: str
                export:
                  description: What is announced to the peer, C(overlay) or a list of prefixes.
                  type: raw
                bfd:
                  description: Whether the session is watched by BFD.
                  type: bool
                multihop:
                  description: The hop count of a multihop session; null for a direct one.
                  type: int
                protocol:
                  description: The BIRD protocol name.
                  type: str
                password_symbol:
                  description: The BIRD constant holding the password (in the secrets fragment); null without a password.
                  type: str
                local_asn:
                  description: The AS number the gateway presents to the peer (C(local_asn), else the gateway's own).
                  type: int
                aggregates:
                  description: The aggregates announced to the peer.
                  type: list
                  elements: str
                services:
                  description: With C(export=overlay), the service prefixes outside the aggregates, announced while their checks pass.
                  type: list
                  elements: str
                export_host_routes:
                  description: Whether the host routes inside the aggregates are announced too.
                  type: bool
                max_prefixes:
                  description: The receive limit of the session (BIRD C(receive limit)).
                  type: int
                communities:
                  description: The communities added to every route announced to the peer.
                  type: dict
                  contains:
                    standard:
                      description: Standard communities, each C([A, B]).
                      type: list
                      elements: list
                    large:
                      description: Large communities, each C([A, B, C]).
                      type: list
                      elements: list
            external_origins:
              description: Prefixes learned from external peers, with the gateway and peer ASNs they must come through.
              type: list
              elements: dict
              contains:
                asn:
                  description: The ASN of the gateway peering with the external router.
                  type: int
                peer_asn:
                  description: The external router's ASN.
                  type: int
                prefixes:
                  description: The prefixes of the family imported from it.
                  type: list
                  elements: str
            external:
              description: The prefixes imported from external peers, as BIRD prefix patterns.
              type: list
              elements: str
    uplink_sessions:
      description: A device's sessions with its uplink gateways, one per uplink and family (empty with O(device_bgp=false)).
      type: list
      elements: dict
      contains:
        name: *session_name
        peer: *session_peer
        neighbor: *session_neighbor
        local: *session_local
        interface: *session_interface
        family: *session_family
        channel: *session_channel
    device_sessions:
      description: A gateway's passive sessions with its attached devices, one per device and family (empty with O(device_bgp=false)).
      type: list
      elements: dict
      contains:
        name: *session_name
        peer: *session_peer
        neighbor: *session_neighbor
        local: *session_local
        family: *session_family
        channel: *session_channel
    serves_devices:
      description: Whether the gateway has attached hosts to route to.
      type: bool
    origins:
      description: On a gateway, per gateway (by ASN) the prefixes it may originate, every family together.
      type: list
      elements: dict
      contains:
        gateway:
          description: Inventory name of the gateway.
          type: str
        asn:
          description: Its ASN.
          type: int
        prefixes:
          description: The prefixes it may originate.
          type: list
          elements: str
    channels:
      description: One entry per address family of the overlay, with the family's data and what that family's protocols and filters print.
      type: list
      elements: dict
      contains: *channel
    bfd_interfaces:
      description: The WireGuard interfaces BFD runs on.
      type: list
      elements: str
    secrets:
      description: Whether the host needs the fragment with its external peers' passwords.
      type: bool
    services:
      description: This host's services (C(wgsdn_services)), every family together.
      type: list
      elements: dict
      contains: *service
    route_reflector:
      description: Whether this gateway is a route reflector.
      type: bool
    reflectors:
      description: Every route reflector of the overlay; empty for a full mesh.
      type: list
      elements: str
    edge:
      description: Whether this gateway is an edge, peering with the reflectors only.
      type: bool
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"bird_settings": plan_filter(topology.bird_settings)}
