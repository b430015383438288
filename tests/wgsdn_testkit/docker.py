"""The docker CLI on the controller: container lifecycle and ``docker exec`` into the test hosts."""

import json
import subprocess


def docker(*args, check=True, timeout=120):
    """``docker ARGS``; the CompletedProcess (text). Raises on failure unless ``check`` is false."""
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True, timeout=timeout)


def docker_exec(container, script, stdin=None, check=True, timeout=120):
    """stdout of ``bash -c SCRIPT`` inside ``container``; a failure fails the test unless ``check`` is false."""
    run = subprocess.run(["docker", "exec", "-i", container, "bash", "-c", script], input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert run.returncode == 0, f"{container}: {script!r} failed: {run.stderr[-500:]}"
    return run.stdout


def exec_all(commands, timeout=30):
    """Run ``{container: shell command}`` concurrently; ``{container: (rc, stdout + stderr)}``."""
    procs = {
        name: subprocess.Popen(["docker", "exec", name, "bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, cmd in commands.items()
    }
    out = {}
    for name, proc in procs.items():
        try:
            text, _stderr = proc.communicate(timeout=timeout)
            out[name] = (proc.returncode, text)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            out[name] = (-1, f"timed out after {timeout}s")
    return out


def underlay(container):
    """(network name, IPv4 address) of the container's only Docker network."""
    nets = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", container).stdout)
    assert len(nets) == 1, nets
    ((name, info),) = nets.items()
    return name, info["IPAddress"]


def unit_property(container, unit, prop):
    """``systemctl show -P PROP UNIT`` inside the container (e.g. bird's MainPID, NRestarts)."""
    return docker("exec", container, "systemctl", "show", "-P", prop, unit).stdout.strip()
