#!/usr/bin/python
# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
module: qrcode
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Write a file's content as a QR code PNG
description:
  - Encodes the content of O(src) (for example an exported WireGuard client configuration) as a QR code and writes it
    as a PNG image to O(dest), so a phone's WireGuard app can import it by scanning.
  - The content never appears in the module's arguments or results; only paths do.
  - Idempotent; the PNG is rewritten only when the code it should hold changes.
requirements:
  - segno (Python, on the host that runs the module; the controller when delegated to localhost)
options:
  src:
    description: File whose content to encode.
    type: path
    required: true
  dest:
    description: PNG file to write.
    type: path
    required: true
  mode:
    description: File mode of O(dest); it shows a private key, so the default is C(0600).
    type: raw
    default: "0600"
  scale:
    description: Pixels per QR module.
    type: int
    default: 6
"""

EXAMPLES = r"""
- name: QR code for the phone's configuration
  wgsdn.fabric.qrcode:
    src: clients/phone.conf
    dest: clients/phone.png
  delegate_to: localhost
"""

RETURN = r"""
dest:
  description: The PNG written.
  type: str
  returned: always
"""

import io
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import segno
except ImportError:
    segno = None


def main():
    module = AnsibleModule(
        argument_spec={
            "src": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "mode": {"type": "raw", "default": "0600"},
            "scale": {"type": "int", "default": 6},
        },
        supports_check_mode=True,
    )
    if segno is None:
        module.fail_json(msg=missing_required_lib("segno"))
    src, dest = module.params["src"], module.params["dest"]
    try:
        with open(src, encoding="utf-8") as handle:
            content = handle.read()
    except OSError as exc:
        module.fail_json(msg=f"cannot read {src}: {exc}")
    buffer = io.BytesIO()
    segno.make(content, error="m", micro=False).save(buffer, kind="png", scale=module.params["scale"], border=4)
    png = buffer.getvalue()
    try:
        with open(dest, "rb") as handle:
            changed = handle.read() != png
    except FileNotFoundError:
        changed = True
    if changed and not module.check_mode:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)), prefix=".qrcode.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(png)
        module.atomic_move(tmp, dest)
    file_args = module.load_file_common_arguments({"path": dest, "mode": module.params["mode"]})
    if not module.check_mode or os.path.exists(dest):
        changed = module.set_fs_attributes_if_different(file_args, changed)
    module.exit_json(changed=changed, dest=dest)


if __name__ == "__main__":
    main()
