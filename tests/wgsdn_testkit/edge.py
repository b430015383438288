"""The overlay's edge under attack: spoofed packets sent from outside, a listener counting what arrives,
and the table inet wgsdn's counted drops.

The sender takes an address of the overlay as its own (``ip address add``) and sends UDP datagrams
and TCP SYNs from it; the listener counts the packets from that source to the ports used that the
destination delivers to itself (raw sockets: after the host's own filter, nothing answered).
"""

import re
import subprocess
import time

# The comments of the counted drops, for the scenarios' tests.
# pylint: disable-next=unused-import
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.policy import EXPORTERS_REFUSED, OUTSIDE, SPOOFED  # noqa: F401
from wgsdn_testkit.docker import docker, docker_exec

# SYNs go to tcp/22, which policies commonly allow their admins (dualhomed's does): a spoofed
# admin source would pass the policy at the destination, so only the edge can stop it.
UDP_PORT, TCP_PORT = 40001, 22

# Counts the packets from SRC to DST on UDP_PORT and TCP SYNs to TCP_PORT for SECONDS that the host
# delivers to itself (raw sockets get them after netfilter's prerouting and input hooks); prints "udp tcp".
_SNIFF = r"""
import ipaddress, select, socket, sys, time
src, dst, udp, tcp, seconds = ipaddress.ip_address(sys.argv[1]), ipaddress.ip_address(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
family = socket.AF_INET6 if dst.version == 6 else socket.AF_INET
sockets = {socket.socket(family, socket.SOCK_RAW, proto): name for proto, name in ((socket.IPPROTO_UDP, "udp"), (socket.IPPROTO_TCP, "tcp"))}
seen = {"udp": 0, "tcp": 0}
end = time.monotonic() + seconds
print("ready", flush=True)
while time.monotonic() < end:
    for s in select.select(list(sockets), [], [], 0.2)[0]:
        data, address = s.recvfrom(65535)
        if dst.version == 4:
            to, l4 = ipaddress.ip_address(data[16:20]), data[(data[0] & 15) * 4:]
        else:
            to, l4 = dst, data
        if ipaddress.ip_address(address[0].split("%")[0]) != src or to != dst or len(l4) < 14:
            continue
        port = int.from_bytes(l4[2:4], "big")
        if sockets[s] == "udp" and port == udp:
            seen["udp"] += 1
        elif sockets[s] == "tcp" and port == tcp and l4[13] & 2:
            seen["tcp"] += 1
print(seen["udp"], seen["tcp"], flush=True)
"""

# Sends COUNT UDP datagrams and COUNT TCP SYNs (non-blocking connects) from SRC to DST.
_SEND = r"""
import socket, sys, time
src, dst, udp, tcp, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
family = socket.AF_INET6 if ":" in dst else socket.AF_INET
for i in range(count):
    u = socket.socket(family, socket.SOCK_DGRAM)
    u.bind((src, 0))
    u.sendto(b"spoofed", (dst, udp))
    u.close()
    t = socket.socket(family, socket.SOCK_STREAM)
    t.bind((src, 0))
    t.setblocking(False)
    try:
        t.connect((dst, tcp))
    except BlockingIOError:
        pass
    time.sleep(0.02)
    t.close()
"""


class Listener:
    """Counts, on ``container``, the attack's packets from ``src`` to ``dst`` while it runs."""

    def __init__(self, container, src, dst, seconds):
        self.proc = subprocess.Popen(
            ["docker", "exec", "-i", container, "python3", "-c", _SNIFF, src, dst, str(UDP_PORT), str(TCP_PORT), str(seconds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready", self.proc.stderr.read()

    def counts(self, timeout=60):
        """``{"udp": N, "tcp": N}`` that arrived."""
        out, err = self.proc.communicate(timeout=timeout)
        udp, tcp = out.split()[-2:] if out.split() else ("?", "?")
        assert udp.isdigit(), err
        return {"udp": int(udp), "tcp": int(tcp)}


def send(container, src, dst, count, netns=None):
    """From ``container`` (in its network namespace ``netns``): ``count`` UDP datagrams and TCP SYNs from ``src`` to ``dst``."""
    prefix = f"ip netns exec {netns} " if netns else ""
    script = _SEND.replace("'", "'\\''")
    docker_exec(container, f"{prefix}python3 -c '{script}' {src} {dst} {UDP_PORT} {TCP_PORT} {count}", timeout=120)


def counted(container, comment):
    """Packets the rule of the table inet wgsdn carrying ``comment`` has counted so far (0 when it has none)."""
    out = docker_exec(container, "nft list table inet wgsdn")
    found = re.findall(r'counter packets (\d+) bytes \d+[^\n]*comment "' + re.escape(comment) + '"', out)
    return sum(int(n) for n in found)


class Outsider:
    """A container on the scenario's underlay that belongs to no group: someone with a cable, not a key."""

    def __init__(self, name, network, image="wgsdn/node:bookworm"):
        self.name = name
        docker("rm", "-f", name, check=False)
        docker("run", "-d", "--name", name, "--network", network, "--cap-add", "NET_ADMIN", "--entrypoint", "sleep", image, "infinity")
        time.sleep(0.5)

    def take(self, address, via):
        """Use ``address`` (an overlay address it does not own) as its own, and route to ``via`` for the overlay."""
        docker_exec(self.name, f"ip address add {address}/32 dev eth0 && ip route add 10.0.0.0/8 via {via} src {address}")

    def remove(self):
        docker("rm", "-f", self.name, check=False)
