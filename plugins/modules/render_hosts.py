#!/usr/bin/python
# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
module: render_hosts
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Run the render tasks of this collection's roles for every play host, in one controller task
description:
  - For each host of the play (C(ansible_play_hosts), so C(--limit) applies) and each role in O(roles), runs the role's
    own C(tasks/render.yml) on the controller with the variables a task of that role would see for that host (the role's
    defaults (and its dependencies'), the host's inventory variables and facts (C(wgsdn_plan) included), the play's
    variables, the role's C(vars/main.yml), facts set by earlier render tasks of that host, and extra variables last).
  - Files are written as M(wgsdn.fabric.render_template) writes them (the same template lookup, the same comparison,
    atomic replacement and modes), so the output is byte-identical to including each role's C(tasks/render.yml) per host.
  - Meant for C(playbooks/render.yml) with C(run_once) and C(delegate_to=localhost). It replaces one Ansible task per
    host, per role and per file (about 0.5 s a host) by plain function calls, and avoids the deep copy of every variable
    (the whole plan included) that the template lookup otherwise makes for each file.
  - A role's C(tasks/render.yml) may hold only C(ansible.builtin.import_tasks), C(ansible.builtin.set_fact) and
    M(wgsdn.fabric.render_template) tasks, with the keywords C(name), C(when), C(vars), C(loop),
    C(loop_control.loop_var), C(no_log), C(diff) and C(delegate_to); anything else fails the task, naming the role, file
    and task.
  - C(set_fact) values and C(loop) must evaluate to data (no templates or undefined values inside, as a filter's result)
    because they are kept as the expression made them, without the deep copy Ansible makes of a task's result. Each task's
    arguments and conditions are compiled once for every host.
  - Never prints file contents; in diff mode, files rendered by tasks with C(no_log) or C(diff=false) have no diff.
  - It is fast because it uses ansible-core internals (the template engine, the inventory of the variable manager), all
    reached in one module of the collection (C(plugins/plugin_utils/core_private.py)) and tried before anything is
    rendered. When this ansible-core lacks or changed one of them, or the environment variable C(WGSDN_RENDER_FAST=0)
    is set on the controller, the task renders nothing, warns, and returns RV(fast=false); C(playbooks/render.yml) then
    includes each role's C(tasks/render.yml) host by host (public APIs only; slower, the same files).
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: partial
    details: No diff for files of tasks marked C(no_log) or C(diff=false) (those holding keys).
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
options:
  roles:
    description:
      - Roles of this collection (C(wgsdn.fabric.NAME) or C(NAME)) whose C(tasks/render.yml) runs, in this order, for each
        host. Facts a role's render tasks set are seen by the later roles of the same host.
    type: list
    elements: str
    required: true
  hosts:
    description: The hosts to render; default C(ansible_play_hosts).
    type: list
    elements: str
notes:
  - Files are owned by the user running Ansible.
seealso:
  - module: wgsdn.fabric.render_template
"""

EXAMPLES = r"""
- name: Render every host's files under wgsdn_render_dir
  wgsdn.fabric.render_hosts:
    roles:
      - wgsdn.fabric.wireguard
      - wgsdn.fabric.bfd
      - wgsdn.fabric.bird
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
fast:
  description:
    - Whether the files were rendered here. False when the fast render is not available on this ansible-core (or
      C(WGSDN_RENDER_FAST=0) is set); nothing was rendered then, and the playbook must render the hosts the ordinary way.
  type: bool
  returned: always
  sample: true
reason:
  description: Why the fast render is not available.
  type: str
  returned: when fast is false
  sample: "ansible-core 2.22.0 has no Templar._engine"
hosts:
  description: How many hosts were rendered.
  type: int
  returned: always
  sample: 6
files:
  description: How many files were rendered.
  type: int
  returned: always
  sample: 20
changed_files:
  description: The files written (or that would be written in check mode) because their content or mode differed.
  type: list
  elements: str
  returned: always
  sample: [render/gateway1/etc/bird/bird.conf]
"""
