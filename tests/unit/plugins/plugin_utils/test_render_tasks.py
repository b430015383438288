"""render_tasks: a role's tasks/render.yml read for the one-task render (imports expanded, defaults layered, the unsupported refused)."""

from types import MappingProxyType

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import core_private, render_tasks


class Loader:
    """The part of Ansible's DataLoader that render_tasks uses."""

    def load_from_file(self, path, trusted_as_template=False):
        assert trusted_as_template, "role files hold templates: they must be loaded as trusted"
        return yaml.safe_load(open(path).read())


def role(tmp_path, name, files):
    for relative, data in files.items():
        path = tmp_path / "roles" / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data))


RENDER = {"name": "Render", "wgsdn.fabric.render_template": {"src": "a.j2", "dest": "{{ d }}"}, "loop": "{{ xs }}", "no_log": True}


def test_imports_are_expanded_with_their_when_and_defaults_follow_dependencies(tmp_path):
    role(tmp_path, "base", {"defaults/main.yml": {"shared": 1, "base_only": 2}})
    role(
        tmp_path,
        "top",
        {
            "meta/main.yml": {"dependencies": [{"role": "wgsdn.fabric.base"}]},
            "defaults/main.yml": {"shared": 3},
            "vars/main.yml": {"_top_x": "{{ 1 }}"},
            "tasks/render.yml": [{"name": "Settings", "ansible.builtin.import_tasks": "settings.yml", "when": "outer"}, RENDER],
            "tasks/settings.yml": [{"name": "Fact", "ansible.builtin.set_fact": {"_top_s": "{{ 2 }}"}, "when": ["inner"]}],
        },
    )
    loaded = render_tasks.load_role(Loader(), str(tmp_path), "wgsdn.fabric.top")
    assert loaded.name == "wgsdn.fabric.top"
    assert loaded.defaults == {"shared": 3, "base_only": 2}  # a role's own defaults override its dependencies'
    assert loaded.vars == {"_top_x": "{{ 1 }}"}
    assert [(task["name"], when) for task, when in loaded.tasks] == [("Fact", ["outer", "inner"]), ("Render", [])]


@pytest.mark.parametrize(
    "task, message",
    [
        ({"name": "Shell", "ansible.builtin.shell": "true"}, "found ansible.builtin.shell"),
        ({"name": "Two", "ansible.builtin.set_fact": {}, "wgsdn.fabric.render_template": {}}, "fast render runs only"),
        (dict(RENDER, register="x"), "found register"),
        (dict(RENDER, loop_control={"index_var": "i"}), "loop_control may only set loop_var and label"),
        ({"name": "Import", "ansible.builtin.import_tasks": "x.yml", "vars": {"a": 1}}, "may only have a name and a when"),
    ],
)
def test_what_the_fast_render_cannot_run_fails_by_name(tmp_path, task, message):
    role(tmp_path, "odd", {"tasks/render.yml": [task]})
    with pytest.raises(render_tasks.RenderTaskError, match=message) as error:
        render_tasks.load_role(Loader(), str(tmp_path), "odd")
    assert "role odd" in str(error.value)


def test_a_role_without_render_tasks_and_a_foreign_dependency_are_refused(tmp_path):
    role(tmp_path, "plain", {"defaults/main.yml": {}})
    with pytest.raises(render_tasks.RenderTaskError, match=r"has no tasks/render\.yml"):
        render_tasks.load_role(Loader(), str(tmp_path), "plain")
    role(tmp_path, "foreign", {"meta/main.yml": {"dependencies": ["geerlingguy.pip"]}, "tasks/render.yml": [RENDER]})
    with pytest.raises(render_tasks.RenderTaskError, match="not a role of this collection"):
        render_tasks.load_role(Loader(), str(tmp_path), "foreign")


def test_steps_set_facts_loop_and_skip_with_each_hosts_variables(tmp_path):
    role(
        tmp_path,
        "files",
        {
            "tasks/render.yml": [
                {"name": "Settings", "ansible.builtin.set_fact": {"_files_s": "{{ {'on': flag, 'names': names} }}"}},
                {
                    "name": "Render",
                    "wgsdn.fabric.render_template": {"src": "a.j2", "dest": "{{ out }}/{{ _files_n }}.conf", "mode": "0600"},
                    "loop": "{{ _files_s.names }}",
                    "loop_control": {"loop_var": "_files_n"},
                    "when": "_files_s.on",
                    "no_log": True,
                },
            ]
        },
    )
    loaded = render_tasks.load_role(DataLoader(), str(tmp_path), "files")
    templar = core_private.TaskTemplar(Templar(loader=DataLoader()))

    def run(variables, extra_vars=None):
        return list(render_tasks.steps(loaded, variables, templar, extra_vars or {}))

    facts, *files = run({"flag": True, "names": ["a", "b"], "out": "/o"})
    assert facts.facts == {"_files_s": {"on": True, "names": ["a", "b"]}}
    assert isinstance(facts.facts["_files_s"], MappingProxyType)  # handed to templates read-only, not lazily wrapped
    assert [(f.dest, f.mode, f.variables["_files_n"], f.diff) for f in files] == [("/o/a.conf", "0600", "a", False), ("/o/b.conf", "0600", "b", False)]
    assert [step.facts for step in run({"flag": False, "names": ["a"], "out": "/o"})] == [{"_files_s": {"on": False, "names": ["a"]}}]
    # An extra var keeps its precedence over the fact the task sets.
    steps = run({"flag": False, "names": [], "out": "/o"}, {"_files_s": {"on": True, "names": ["x"]}})
    assert [step.dest for step in steps[1:]] == ["/o/x.conf"]
