"""The Prometheus side of the `faults` scenario: Debian's prometheus on f-monitor (in the overlay,
behind gateway1) with the files playbooks/monitoring.yml generates, short `for:` and scrape
intervals, and its HTTP API read with `docker exec f-monitor curl`."""

import json
import shlex
import tempfile
import time
from pathlib import Path

import faultkit as fk
import yaml
from wgsdn_testkit.docker import docker, docker_exec

MONITOR = "f-monitor"
CONFIG_DIR = "/etc/prometheus/wgsdn"
API = "http://127.0.0.1:9090/api/v1"
INTERVAL_S = 5  # scrape and evaluation interval
FOR_S = 10  # every alert's for:
FOR = {k: f"{FOR_S}s" for k in ("down", "handshake", "bgp", "bfd", "routes")}


def api(path, **params):
    """GET ``/api/v1/<path>?<params>`` on the monitor; the ``data`` of the answer."""
    encoded = " ".join(f"--data-urlencode {shlex.quote(f'{k}={v}')}" for k, v in params.items())
    out = docker_exec(MONITOR, f"curl -sfG --max-time 5 {encoded} '{API}/{path}'")
    answer = json.loads(out)
    assert answer["status"] == "success", answer
    return answer["data"]


def generate(dest):
    """playbooks/monitoring.yml into ``dest`` with the scenario's short durations."""
    extra = {"wgsdn_monitoring_dir": str(dest), "metrics_alert_for": FOR, "metrics_scrape_interval": f"{INTERVAL_S}s"}
    result = fk.playbook("monitoring.yml", "-e", json.dumps(extra))
    assert result.returncode == 0, result.stdout[-4000:]
    return {p.relative_to(dest).as_posix(): p.read_text() for p in Path(dest).rglob("*") if p.is_file()}


def install():
    """Generate the files, check them with promtool on the monitor, start prometheus; the files as text."""
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(tmp)
        docker_exec(MONITOR, f"rm -rf {CONFIG_DIR} && mkdir -p {CONFIG_DIR}")
        docker("cp", f"{tmp}/.", f"{MONITOR}:{CONFIG_DIR}")
    checked = docker_exec(MONITOR, f"promtool check rules {CONFIG_DIR}/rules/wgsdn.rules.yml && promtool check config {CONFIG_DIR}/prometheus.yml 2>&1")
    docker_exec(
        MONITOR,
        f"""chown -R prometheus: {CONFIG_DIR}
        echo 'ARGS="--config.file={CONFIG_DIR}/prometheus.yml --web.listen-address=127.0.0.1:9090 --storage.tsdb.retention.time=1d"' > /etc/default/prometheus
        systemctl restart prometheus
        for _ in $(seq 60); do curl -sf -o /dev/null http://127.0.0.1:9090/-/ready && exit 0; sleep 1; done; exit 1""",
    )
    return files, checked


def promtool_test(rules_text, host):
    """`promtool test rules` on the monitor: a stale handshake and a missing series (exporter up) fire
    WgsdnWireguardHandshakeStale after 180 s; fresh handshakes do not. Returns promtool's output."""
    rules = yaml.safe_load(rules_text)
    handshakes = [r for g in rules["groups"] for r in g["rules"] if r["alert"] == "WgsdnWireguardHandshakeStale" and r["labels"]["host"] == host]
    # the first peer never handshaked, the second has no series at all, the others handshake all the time
    stale, fresh = handshakes[0]["labels"], [r["labels"] for r in handshakes[2:]]

    def expected(rule, value):  # labels, and annotations with the value the alert will show
        return {"exp_labels": rule["labels"], "exp_annotations": {k: v.replace("{{ $value }}", value) for k, v in rule["annotations"].items()}}

    def series(labels):
        return "wgsdn_wireguard_latest_handshake_seconds{" + ",".join(f'{k}="{labels[k]}"' for k in ("host", "interface", "peer")) + "}"

    test = {
        "rule_files": ["wgsdn.rules.yml"],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": [
                    {"series": f'up{{job="wgsdn-node",host="{host}"}}', "values": "1+0x40"},
                    {"series": series(stale), "values": "0+0x40"},  # never handshaked
                    *({"series": series(labels), "values": "0+15x40"} for labels in fresh),  # handshakes now
                ],
                "alert_rule_test": [
                    {"eval_time": "2m", "alertname": "WgsdnWireguardHandshakeStale", "exp_alerts": [expected(handshakes[1], "1")]},
                    {
                        "eval_time": "4m",  # never handshaked: 240 s ago at 4m
                        "alertname": "WgsdnWireguardHandshakeStale",
                        "exp_alerts": [expected(handshakes[1], "1"), expected(handshakes[0], "240")],
                    },
                ],
            }
        ],
    }
    docker_exec(MONITOR, f"cat > /tmp/wgsdn-rules-test.yml && cp {CONFIG_DIR}/rules/wgsdn.rules.yml /tmp/", stdin=yaml.safe_dump(test))
    return docker_exec(MONITOR, "cd /tmp && promtool test rules wgsdn-rules-test.yml 2>&1")


def targets():
    """``{(job, host): health}`` of the active targets."""
    return {(t["labels"]["job"], t["labels"]["host"]): t["health"] for t in api("targets", state="active")["activeTargets"]}


def alerts(state="firing"):
    """``{(alertname, host, peer)}`` of the alerts in ``state`` (firing or pending)."""
    return {(a["labels"]["alertname"], a["labels"].get("host"), a["labels"].get("peer")) for a in api("alerts")["alerts"] if a["state"] == state}


def alerts_including(expected):
    """The firing alerts when they include every one of ``expected``, else None."""
    firing = alerts()
    return firing if firing >= expected else None


def wait_for(what, check, timeout, interval=1.0):
    """Poll ``check()`` until it returns a true value; ``(seconds, value)``."""
    start = time.monotonic()
    while True:
        value = check()
        if value:
            return time.monotonic() - start, value
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not there after {timeout} s")
        time.sleep(interval)
