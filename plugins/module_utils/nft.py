# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's nftables table as the kernel runs it, and as its ruleset file would make it.

Host-side, standard library only. Both sides are ``nft list table`` output with the
counters' numbers taken out, so they compare whatever traffic passed. The expected
side loads the file into a fresh, empty network namespace (``unshare --net``), where
it touches nothing that runs, and lists it there: the same kernel prints both.
"""

import re

FAMILY, NAME = "inet", "wgsdn"
TABLE = f"{FAMILY} {NAME}"
_COUNTER = re.compile(r"counter packets \d+ bytes \d+")


def normalize(listing):
    """A listing with every counter's packets and bytes removed (they change with traffic, not with drift)."""
    return _COUNTER.sub("counter", listing).strip()


def live(run):
    """The running table (normalized), or None when the kernel has no such table."""
    rc, out, _err = run(["nft", "list", "table", FAMILY, NAME])
    return normalize(out) if rc == 0 else None


def expected(run, path):
    """The table ``path`` makes, listed by this kernel (normalized). Raises RuntimeError when it cannot be made."""
    rc, out, err = run(["unshare", "--net", "sh", "-c", f'nft -f "$1" && nft list table {FAMILY} {NAME}', "sh", path])
    if rc != 0:
        raise RuntimeError(f"cannot list what {path} makes in a scratch network namespace: {err.strip() or out.strip()}")
    return normalize(out)
