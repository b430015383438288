"""The table inet wgsdn and BIRD's protocols as the host shows them (module_utils/nft.py, bird.py)."""

from ansible_collections.wgsdn.fabric.plugins.module_utils import bird, nft

LISTING = (
    "table inet wgsdn {\n"
    "\tchain prerouting {\n"
    "\t\ttype filter hook prerouting priority raw; policy accept;\n"
    '\t\tip saddr @inside_v4 counter packets 12 bytes 1008 drop comment "spoofed source"\n'
    "\t}\n"
    "}\n"
)


def test_counters_do_not_count_as_drift():
    assert nft.normalize(LISTING) == nft.normalize(LISTING.replace("packets 12 bytes 1008", "packets 0 bytes 0"))
    assert nft.normalize(LISTING) != nft.normalize(LISTING.replace("drop comment", "accept comment"))


def test_the_expected_table_is_listed_in_a_scratch_namespace():
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, LISTING, ""

    assert nft.expected(run, "/etc/nftables.d/wgsdn.nft") == nft.normalize(LISTING)
    assert calls[0][:2] == ["unshare", "--net"] and calls[0][-1] == "/etc/nftables.d/wgsdn.nft"


def test_a_missing_table_is_none():
    assert nft.live(lambda argv: (1, "", "Error: No such file or directory")) is None


SHOW_PROTOCOLS = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
wgsdn_bfd  BFD        ---        up     17:58:03.418
wgsdn_kernel Kernel     master4    up     17:58:03.418
bgp_t3_gateway2 BGP        ---        down   17:58:50.603
dev_t3_device1 BGP        ---        start  18:11:14.761  Active        Socket: Connection refused
ext_office_core BGP        ---        up     17:58:08.682  Established
"""


def test_down_is_disabled_and_a_dead_neighbour_is_not():
    assert bird.enabled(SHOW_PROTOCOLS) == {
        "wgsdn_bfd": True,
        "wgsdn_kernel": True,
        "bgp_t3_gateway2": False,
        "dev_t3_device1": True,
        "ext_office_core": True,
    }
