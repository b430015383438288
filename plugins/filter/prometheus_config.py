# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: prometheus_config
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.2.0"
short_description: Prometheus scrape targets and alert rules generated from the plan
description:
  - File-based service discovery (C(file_sd)) of every managed host's exporters, labelled C(host) and C(role),
    and alert rules for what should exist, as verify.yml checks it.
  - The rules watch a recent WireGuard handshake with every expected peer, every BGP session established,
    every BFD session up, each gateway's kernel route count, and every exporter answering.
    Unmanaged clients (C(wgsdn_clients)) are never alerted on.
  - Each rule carries the labels C(host) and C(peer) (or C(session)) and an annotation naming the command to run.
positional: options
extends_documentation_fragment:
  - wgsdn.fabric.plan
options:
  options:
    description:
      - C(node_port), C(bird_port), C(handshake_max_age) (seconds), C(for) (a dict of C(for:) durations keyed
        C(down), C(handshake), C(bgp), C(bfd), C(routes)) and C(file_sd_dir) (as the scrape jobs name it).
    type: dict
    default: {}
  device_bgp:
    description: Devices learn their routes over BGP (the bird role's C(bird_device_bgp)), so their uplink sessions are expected.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Write the alert rules
  ansible.builtin.copy:
    content: "{{ (wgsdn_plan | wgsdn.fabric.prometheus_config({'for': {'bgp': '30s'}})).rules | to_nice_yaml(indent=2) }}"
    dest: prometheus/rules/wgsdn.rules.yml
    mode: "0644"
"""

RETURN = r"""
_value:
  description: Everything C(playbooks/monitoring.yml) writes, as data.
  type: dict
  contains:
    file_sd:
      description: Per scrape job (C(wgsdn-node), C(wgsdn-bird)), its file_sd target groups.
      type: dict
      contains:
        <job>:
          description: One target group per host.
          type: list
          elements: dict
          contains:
            targets:
              description: The exporter's C(address:port).
              type: list
              elements: str
            labels:
              description: The host's labels.
              type: dict
              contains:
                host:
                  description: Inventory name of the host.
                  type: str
                role:
                  description: C(gateway) or C(device).
                  type: str
    rules:
      description: A Prometheus rule file (C(groups) of alerting rules) with the overlay's alerts.
      type: dict
    scrape_configs:
      description: The scrape jobs reading the file_sd files, for C(prometheus.yml).
      type: list
      elements: dict
      contains:
        job_name:
          description: The job's name.
          type: str
        file_sd_configs:
          description: The job's file_sd configuration.
          type: list
          elements: dict
          contains:
            files:
              description: The file_sd file, under O(options.file_sd_dir).
              type: list
              elements: str
    dashboard:
      description: A Grafana dashboard (JSON model) of the overlay.
      type: dict
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import metrics


class FilterModule:
    def filters(self):
        return {"prometheus_config": plan_filter(metrics.prometheus_files)}
