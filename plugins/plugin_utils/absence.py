# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tell an absent host from a broken one in verify.yml's results.

A host Ansible cannot reach (stopped, paused, cut off from the controller) is
ABSENT: it reports nothing, and every other host sees the consequences (its
BGP and BFD sessions down, its routes withdrawn, pings to it failing). Those
consequences are not faults of the hosts that report them, and must not hide a
host that is up and broken (bird stopped, an interface missing) behind them.

``classify`` reads ``verify.check_host`` results and sorts every finding by its
subjects (the hosts it names, problems.problem) and its kind, never by its wording:

* explained by absence: every host the problem names is absent, or cannot be
  reached from the reporting host without crossing an absent one (a device
  whose only gateway is absent);
* a host's own problem (it names no other host): that host is BROKEN;
* caused by a broken host: every host it names is absent, cut off or broken;
* anything else leaves the reporting host BROKEN too.

A missing peer section, a leftover session or a reflector design problem
(problems.CONFIGURATION) is never explained away: those are configuration
faults whoever is absent.
"""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import problems as kinds
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import GATEWAY

ABSENT = "absent"
BROKEN = "broken"
OK = "ok"


def _reachable(plan, source, absent):
    """Hosts ``source`` can reach over the plan's links without crossing an absent host
    (only gateways relay: devices never carry traffic between two others)."""
    neighbours = {name: set() for name in plan["hosts"]}
    for link in plan["links"]:
        neighbours[link["a"]].add(link["b"])
        neighbours[link["b"]].add(link["a"])
    seen, queue = {source}, [source]
    while queue:
        name = queue.pop()
        if name != source and plan["hosts"][name]["role"] != GATEWAY:
            continue
        for other in neighbours[name] - seen - set(absent):
            seen.add(other)
            queue.append(other)
    return seen


def classify(plan, results, hosts, absent):
    """Sort verify.yml's results into absent, broken and healthy hosts.

    ``results``: ``verify.check_host`` outputs of the hosts that reported; ``hosts``: every host
    that should have; ``absent``: ``{host: reason}`` of the hosts Ansible could not reach.
    Returns ``status`` (``{host: absent|broken|ok}``), ``problems`` (a line per absent or broken
    host, then every problem, annotated with its cause when it has one) and ``summary`` (one
    line per host).
    """
    reported = {r["host"]: r for r in results}
    absent = {h: absent[h] for h in hosts if h in absent and h not in reported}
    silent = [h for h in hosts if h not in reported and h not in absent]
    own, pending, notes, roots = set(silent), [], {}, set()
    for name, result in reported.items():
        reach = _reachable(plan, name, absent)
        for found in result["findings"]:
            problem = kinds.line(name, found)
            named = set(found["subjects"]) - {name}
            if found["kind"] in kinds.CONFIGURATION or not named:
                own.add(name)
                roots.add(problem)
                notes[problem] = ""
            elif all(h in absent or h not in reach for h in named):
                away = sorted(h for h in named if h in absent) or sorted(absent)
                notes[problem] = f" [caused by absent {', '.join(away)}]"
            else:
                pending.append((name, problem, named, reach))
    broken = set(own)
    for name, problem, named, reach in pending:
        if all(h in absent or h not in reach or h in own for h in named):
            notes[problem] = f" [caused by broken {', '.join(sorted(h for h in named if h in own))}]"
        else:
            broken.add(name)
            notes[problem] = ""
    status = {h: ABSENT if h in absent else BROKEN if h in broken else OK for h in hosts}
    head = [f"{h}: did not report (unreachable?): ABSENT" for h in hosts if status[h] == ABSENT]
    head += [f"{h}: did not report (a task failed): BROKEN" for h in silent]
    head += [f"{h}: BROKEN" for h in hosts if status[h] == BROKEN and h not in silent]
    lines = [p + notes[p] for r in results for p in r["problems"]]
    return {"status": status, "problems": head + lines if head or lines else [], "summary": _summary(hosts, status, absent, reported, notes, roots)}


def _summary(hosts, status, absent, reported, notes, roots):
    """One line per host; a broken host's line starts with its own problems (those naming no other host)."""
    lines = []
    for h in hosts:
        problems = reported[h]["problems"] if h in reported else []
        caused = sum(1 for p in problems if notes.get(p))
        if status[h] == ABSENT:
            lines.append(f"ABSENT  {h}: unreachable ({absent[h]})" if absent[h] else f"ABSENT  {h}: unreachable")
        elif status[h] == BROKEN:
            mine = [p[len(h) + 2 :] for p in sorted(problems, key=lambda p: p not in roots) if not notes.get(p)]
            lines.append(
                f"BROKEN  {h}: " + ("; ".join(mine[:3]) + (f" (+{len(mine) - 3} more)" if len(mine) > 3 else "") if mine else "did not report (a task failed)")
            )
        else:
            lines.append(f"ok      {h}" + (f" ({caused} problem(s) caused by absent or broken hosts)" if caused else ""))
    return lines
