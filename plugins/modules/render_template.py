#!/usr/bin/python
# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
module: render_template
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Render a template into a file on the controller, without running a module
description:
  - Renders O(src) with the task's variables exactly as M(ansible.builtin.template) does (through the
    P(ansible.builtin.template#lookup) lookup, with the same search for the template, the same generated variables such
    as C(ansible_managed), C(trim_blocks) on and newlines kept), and writes the result to O(dest) on the controller.
  - Runs entirely in the controller process, with no module subprocess and no connection to the host, so rendering
    many hosts' files (C(playbooks/render.yml)) costs no module round trips.
  - Missing parent directories of O(dest) are created with O(directory_mode); existing ones are left as they are.
  - O(dest) is replaced atomically (a temporary file in the same directory, then a rename) only when its content differs,
    and only its mode is changed when just that differs; otherwise nothing is written and the task reports no change.
  - Supports check mode (nothing written, the change reported) and diff mode (the content before and after, and the
    mode); set C(diff) to V(false) on tasks whose output holds secrets.
  - Errors name the host (C(inventory_hostname)) and O(dest).
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
options:
  src:
    description:
      - The template, searched as M(ansible.builtin.template) searches it (the role's C(templates/) directory first).
    type: str
    required: true
  dest:
    description: The file to write, a path on the controller.
    type: path
    required: true
  mode:
    description:
      - Permission bits of O(dest), as an octal string such as V('0600').
      - Set exactly, whatever the umask; symbolic modes are not supported.
    type: raw
    default: "0644"
  directory_mode:
    description: Permission bits of the parent directories of O(dest) that are created, as an octal string.
    type: raw
    default: "0755"
notes:
  - The file is owned by the user running Ansible; there are no owner, group or SELinux options.
seealso:
  - module: ansible.builtin.template
  - plugin: ansible.builtin.template
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Render bird.conf for review under render/<host>/
  wgsdn.fabric.render_template:
    src: bird.conf.j2
    dest: "render/{{ inventory_hostname }}/etc/bird/bird.conf"
    mode: "0644"
  delegate_to: localhost

- name: Render a configuration holding private keys
  wgsdn.fabric.render_template:
    src: wg-quick.conf.j2
    dest: "render/{{ inventory_hostname }}/etc/wireguard/wg0.conf"
    mode: "0600"
    directory_mode: "0700"
  delegate_to: localhost
  no_log: true
  diff: false
"""

RETURN = r"""
dest:
  description: The file written, or that would be written in check mode.
  type: str
  returned: always
  sample: render/gateway1/etc/bird/bird.conf
mode:
  description: Permission bits of O(dest), in octal.
  type: str
  returned: always
  sample: "0644"
"""
