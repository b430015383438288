"""Reachability from inside the containers: fping rounds and timestamped 10 ms fping streams.

A stream is `fping -l -p 10 -D` (loop mode, 10 ms period, epoch timestamps), not `ping -i 0.01`:
iputils' ping busy-waits whenever its next send is due within 10 ms (sched_yield and
non-blocking recvmsg, about a quarter of a core per stream here), and at a 10 ms
interval it always is; on a 2-core machine that load slowed every playbook a test ran
beside a stream, and the stream itself sent at about 70 per second instead of 100.
fping sleeps in select() between sends (0.04 s of CPU in 4 s against 0.9 s for ping).
"""

import itertools
import re
import subprocess
import time

from .docker import docker_exec


def parse_fping(text):
    """{target: loss percent} from `fping -q -c N` output."""
    loss = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+)\s+:\s+xmt/rcv/%loss = \d+/\d+/(\d+)%", line)
        if m:
            loss[m.group(1)] = int(m.group(2))
    return loss


def ping_all(h, targets, count=3):
    """fping every target from a testinfra host; {target: loss percent}."""
    r = h.run(f"fping -q -c {count} -p 100 -t 500 {' '.join(targets)}")
    return parse_fping(r.stdout + r.stderr)


def parse_stream(out):
    """(sent, received, {sequence: reply epoch seconds}) of a finished `fping -l -D` run.

    fping numbers a target's requests from 0 and prints `[epoch] target : [N], 64 bytes, ...`
    for each reply and `target : xmt/rcv/%loss = S/R/L%` when it stops.
    """
    replies = {int(m.group(2)): float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \S+ : \[(\d+)\], \d+ bytes", out, re.M)}
    m = re.search(r"xmt/rcv/%loss = (\d+)/(\d+)/", out)
    assert m and replies, out[-2000:]
    return int(m.group(1)), int(m.group(2)), replies


def gaps(times):
    """Reply-to-reply gaps (seconds) of sorted reply times."""
    return [b - a for a, b in itertools.pairwise(times)]


def fping_stream(dst, interval_ms=10):
    """The command of a timestamped stream to ``dst``: a request every ``interval_ms``, each given 1 s."""
    return ["fping", "-l", "-D", "-p", str(interval_ms), "-t", "1000", dst]


def start_ping_stream(src, dst, seconds, interval_ms=10):
    """A timestamped stream (see fping_stream) run inside ``src``'s container for ``seconds``."""
    return subprocess.Popen(
        ["docker", "exec", src, "timeout", "-s", "INT", str(seconds), *fping_stream(dst, interval_ms)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def ping_stream_stats(proc, timeout=120):
    """{sent, received, lost, replies: [epoch seconds], longest_gap_ms} of a finished stream."""
    out, _stderr = proc.communicate(timeout=timeout)
    sent, received, by_seq = parse_stream(out)
    replies = sorted(by_seq.values())
    return {
        "sent": sent,
        "received": received,
        "lost": sent - received,
        "replies": replies,
        "longest_gap_ms": max(gaps(replies), default=0) * 1000,
    }


class PingStream:
    """A 10 ms stream (fping_stream) inside a container, stopped with SIGINT when the change is done.

    Loss is counted by sequence number over every request sent at least one
    second before the stop (later ones may legitimately still be in flight).
    """

    def __init__(self, src, dst, count=60000):
        self.src = src
        command = " ".join(fping_stream(dst))
        # `timeout` bounds a stream a failed test never stops (count requests at 100 per second).
        self.pid = docker_exec(
            src,
            f"rm -f /tmp/stream.log; setsid timeout -s INT {count // 100} {command} >/tmp/stream.log 2>&1 </dev/null & echo $!",
        ).strip()
        assert self.pid.isdigit(), self.pid
        time.sleep(1.5)  # some replies before the change begins

    def stop(self, settle=1.5):
        time.sleep(settle)
        docker_exec(self.src, f"kill -INT {self.pid}; while kill -0 {self.pid} 2>/dev/null; do sleep 0.05; done")
        sent, _received, replies = parse_stream(docker_exec(self.src, "cat /tmp/stream.log"))
        judged = range(sent - int(settle * 100))  # answered or not, these had >= 1 s
        lost = [seq for seq in judged if seq not in replies]
        times = sorted(replies.values())
        between = gaps(times)
        return {
            "sent": sent,
            "judged": len(judged),
            "lost": len(lost),
            "first_lost": lost[:5],
            "first_reply": times[0],
            "last_reply": times[-1],
            "longest_gap_ms": round(max(between) * 1000) if between else 0,
        }
