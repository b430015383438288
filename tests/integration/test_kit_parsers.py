"""The test kit's parsers of birdc, fping, ping -D and PLAY RECAP output (what the live checks judge by)."""

from wgsdn_testkit import bird, ping, playbooks

PROTOCOLS = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Direct     ---        up     10:00:00.000
bgp_gw2    BGP        ---        up     10:00:01.123  Established
  BGP state:          Established
    Neighbor address: 10.0.0.5
wgsdn_devices BGP     ---        start  10:00:00.000  Passive
  BGP state:          Passive
dev_1      BGP        ---        start  10:00:02.000  Connect
  BGP state:          Connect
    Neighbor address: 10.0.0.1
wgsdn_devices6 BGP    ---        start  10:00:00.000  Passive
  BGP state:          Passive
dev6_1     BGP        ---        up     10:00:02.000  Established
  BGP state:          Established
"""

BFD = """BIRD 2.0.12 ready.
bfd1:
IP address                Interface  State      Since         Interval  Timeout
10.0.0.1                  wg0        Up         10:00:01.000    0.100    0.500
10.0.0.5                  wg-gw2     Down       10:00:02.000    1.000    0.000
fd00:10::5                wg-gw2     Up         10:00:02.000    0.100    0.500
"""


def test_bgp_states_leave_out_the_device_templates():
    assert bird.parse_bgp_states(PROTOCOLS) == {"bgp_gw2": "Established", "dev_1": "Connect", "dev6_1": "Established"}
    assert bird.all_established(bird.parse_bgp_states(PROTOCOLS)) is None
    assert bird.all_established({"bgp_gw2": "Established"}) == {"bgp_gw2": "Established"}
    assert bird.all_established({}) is None


def test_bfd_sessions():
    assert bird.parse_bfd_sessions(BFD) == [("10.0.0.1", "wg0", "Up"), ("10.0.0.5", "wg-gw2", "Down"), ("fd00:10::5", "wg-gw2", "Up")]
    assert bird.bfd_up(BFD) == {"10.0.0.1", "fd00:10::5"}
    slow = BFD.replace(
        "fd00:10::5                wg-gw2     Up         10:00:02.000    0.100    0.500",
        "fd00:10::5                wg-gw2     Up         10:00:02.000    1.000    5.000",
    )
    assert bird.bfd_armed(BFD, 0.5) == {"10.0.0.1", "fd00:10::5"}
    assert bird.bfd_armed(slow, 0.5) == {"10.0.0.1"}


def test_fping_loss_per_target():
    out = "10.0.0.4 : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.10/0.20/0.30\n10.0.0.5 : xmt/rcv/%loss = 3/0/100%\n"
    assert ping.parse_fping(out) == {"10.0.0.4": 0, "10.0.0.5": 100}


def test_ping_stream_replies_by_sequence_and_gaps():
    out = (
        "[1700000000.10000] 10.0.0.12 : [0], 64 bytes, 0.521 ms (0.521 avg, 0% loss)\n"
        "[1700000000.11000] 10.0.0.12 : [1], timed out (0.521 avg, 50% loss)\n"
        "[1700000000.60000] 10.0.0.12 : [2], 64 bytes, 0.530 ms (0.525 avg, 33% loss)\n"
        "\n10.0.0.12 : xmt/rcv/%loss = 3/2/33%, min/avg/max = 0.521/0.525/0.530\n"
    )
    sent, received, replies = ping.parse_stream(out)
    assert (sent, received, sorted(replies)) == (3, 2, [0, 2])
    assert [round(g, 3) for g in ping.gaps(sorted(replies.values()))] == [0.5]


def test_recap_and_changed_tasks():
    out = """TASK [wgsdn.fabric.wireguard : Write the config] ***
ok: [a]
changed: [b]

RUNNING HANDLER [wgsdn.fabric.wireguard : Sync wireguard peers] ***
changed: [b]

PLAY RECAP *********************************************************************
a                          : ok=3    changed=0    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0
b                          : ok=4    changed=2    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
"""
    rows = playbooks.recap(out)
    assert rows["a"]["changed"] == 0 and rows["b"] == {"ok": 4, "changed": 2, "unreachable": 0, "failed": 1, "skipped": 0, "rescued": 0, "ignored": 0}
    assert playbooks.changed_tasks(out, "b") == {"wgsdn.fabric.wireguard : Write the config", "wgsdn.fabric.wireguard : Sync wireguard peers"}
    assert playbooks.changed_tasks(out, "a") == set()


def test_converge_reasons_reads_only_the_hosts_that_converge():
    out = """TASK [Compare each host with the receipt of its last converge] ***
ok: [a]
ok: [b]
ok: [c]

TASK [Say why a host converges] ***
skipping: [a]
ok: [b] =>{space}
    msg:
    - /etc/bird is not as the last converge left it
    - active units is not as the last converge left it
skipping: [d]
ok: [c] =>{space}
    msg:
    - 'no receipt: site.yml has not converged this host since receipts exist'

PLAY [WireGuard tunnels] ***

TASK [Converge WireGuard] ***
skipping: [a]
""".format(space=" ")  # the callback's own trailing space after "=>"
    assert playbooks.converge_reasons(out) == {
        "b": ["/etc/bird is not as the last converge left it", "active units is not as the last converge left it"],
        "c": ["no receipt: site.yml has not converged this host since receipts exist"],
    }
    assert playbooks.converge_reasons(out.replace("ok: [b]", "skipping: [b]").split("ok: [c] =>")[0]) == {}
