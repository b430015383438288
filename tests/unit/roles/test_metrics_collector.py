"""The WireGuard collector the metrics role ships to hosts (roles/metrics/files/wgsdn-metrics-collector)."""

import importlib.machinery
import importlib.util
import json
import os
import pathlib
import re
import stat
import subprocess
import sys
import time

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import metrics

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "roles" / "metrics" / "files" / "wgsdn-metrics-collector"

PRIVATE = "cGFzc3dvcmQtbm90LXJlYWxseS1hLWtleS0xMjM0NTY3OA="
PSK = "cHJlc2hhcmVkLW5vdC1yZWFsbHktYS1rZXktMTIzNDU2Nzg="
GW2 = "R1cyUHVibGljS2V5QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
DEV1 = "RGV2MVB1YmxpY0tleUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
STRANGER = "U3RyYW5nZXJLZXlBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
# `wg show all dump`: interface lines (5 fields, the private key second), peer lines (9 fields).
DUMP = "\n".join(
    [
        f"wg0\t{PRIVATE}\tVXBQdWJsaWM=\t51820\toff",
        f"wg0\t{DEV1}\t{PSK}\t172.18.0.4:40000\t10.0.0.11/32\t1800000000\t1234\t5678\t25",
        f"wg0\t{STRANGER}\t(none)\t(none)\t10.0.0.99/32\t0\t0\t0\toff",
        f"wg-gateway2\t{PRIVATE}\tVXBQdWJsaWM=\t51822\toff",
        f"wg-gateway2\t{GW2}\t{PSK}\t[2001:db8::2]:51821\t10.0.0.0/24\t1799999990\t99\t100\toff",
    ]
)


def _load():
    loader = importlib.machinery.SourceFileLoader("wgsdn_metrics_collector", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


collector = _load()


def test_parse_dump_reads_peers_and_skips_interface_lines():
    peers = collector.parse_dump(DUMP)
    assert [p["public_key"] for p in peers] == [DEV1, STRANGER, GW2]
    assert peers[0] == {"interface": "wg0", "public_key": DEV1, "endpoint": "172.18.0.4:40000", "handshake": 1800000000, "rx": 1234, "tx": 5678}
    assert peers[1]["endpoint"] == "" and peers[1]["handshake"] == 0
    assert peers[2]["endpoint"] == "[2001:db8::2]:51821"
    assert collector.parse_dump("") == [] and collector.parse_dump("garbage\tline") == []


def test_render_labels_peers_by_name_and_holds_no_secret():
    text = collector.render(collector.parse_dump(DUMP), {DEV1: "device1", GW2: "gateway2"}, 1800000005)
    assert PRIVATE not in text and PSK not in text
    assert 'wgsdn_wireguard_latest_handshake_seconds{interface="wg0",peer="device1"} 1800000000' in text
    assert 'wgsdn_wireguard_received_bytes_total{interface="wg-gateway2",peer="gateway2"} 99' in text
    assert 'wgsdn_wireguard_sent_bytes_total{interface="wg0",peer="device1"} 5678' in text
    assert f'wgsdn_wireguard_peer_info{{interface="wg0",peer="device1",public_key="{DEV1}",endpoint="172.18.0.4:40000"}} 1' in text
    assert f'peer="{STRANGER}"' in text, "a peer missing from the map is labelled with its public key"
    assert "wgsdn_collector_last_run_seconds 1800000005" in text
    assert text.endswith("\n")


def test_metric_names_and_types_are_the_plugins():
    assert {name: (kind, text) for name, kind, text in collector.METRICS} == metrics.METRICS


def test_render_is_valid_exposition_format():
    """Every line: a comment (HELP/TYPE once per metric, before its samples) or `name{labels} value`."""
    text = collector.render(collector.parse_dump(DUMP), {}, 1)
    sample = re.compile(r'^([a-z_]+)(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? -?\d+(\.\d+)?$')
    typed = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.append(line.split()[2])
        elif not line.startswith("# HELP "):
            m = sample.match(line)
            assert m, line
            assert m.group(1) == typed[-1], f"{line}: sample outside its metric's block"
    assert len(typed) == len(set(typed)) == len(collector.METRICS)
    assert collector._labels(endpoint='a"b\\c') == '{endpoint="a\\"b\\\\c"}'


def test_write_atomically_replaces_the_file(tmp_path):
    target = tmp_path / "wgsdn.prom"
    target.write_text("old\n")
    inode = target.stat().st_ino
    collector.write_atomically(str(target), "new\n")
    assert target.read_text() == "new\n" and target.stat().st_ino != inode, "renamed over, not rewritten in place"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["wgsdn.prom"], "no temporary file left behind"


def test_main_runs_wg_and_writes_the_textfile(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "wg").write_text(f"#!/bin/sh\n[ \"$*\" = 'show all dump' ] || exit 3\ncat <<'EOF'\n{DUMP}\nEOF\n")
    (fake / "wg").chmod(0o755)
    peers = tmp_path / "peers.json"
    peers.write_text(json.dumps({DEV1: "device1"}))
    out = tmp_path / "wgsdn.prom"
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    run = subprocess.run([sys.executable, str(SCRIPT), "--peers", str(peers), "--output", str(out)], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert 'peer="device1"' in out.read_text() and PRIVATE not in out.read_text()
    (fake / "wg").write_text("#!/bin/sh\necho 'Unable to access interface' >&2\nexit 1\n")
    run = subprocess.run([sys.executable, str(SCRIPT), "--peers", str(peers), "--output", str(out)], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "Unable to access interface" in run.stderr
    assert 'peer="device1"' in out.read_text(), "a failed run keeps the last good file"


def test_fast_enough_for_a_big_gateway():
    """Parsing and rendering 50 peers takes well under a millisecond per peer (the benchmark measures the host side)."""
    peers = 50
    dump = "\n".join(f"wg0\tK{i:043d}\t(none)\t10.1.0.{i}:51820\t10.0.0.{i}/32\t1800000000\t{i}\t{i}\toff" for i in range(peers))
    start = time.perf_counter()
    texts = [collector.render(collector.parse_dump(dump), {}, 1) for _run in range(100)]
    assert (time.perf_counter() - start) / 100 < 0.05
    assert texts[-1].count("wgsdn_wireguard_peer_info{") == peers
