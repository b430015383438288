"""core_private: the fast render's ansible-core internals, each access guarded.

One templar for many hosts' evaluations of the same task texts (compiled once; data results
not copied), and Unsupported (the ordinary render instead) whenever something it uses is gone."""

import ast
import pathlib
import re
import types

import jinja2
import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.vars.manager import VariableManager

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import core_private


@pytest.fixture
def compiles(monkeypatch):
    """The sources Jinja compiled (templates and expressions), in order."""
    seen = []
    compile_, compile_expression = jinja2.Environment.compile, jinja2.Environment.compile_expression

    def counting_compile(self, source, *args, **kwargs):
        seen.append(source)
        return compile_(self, source, *args, **kwargs)

    def counting_expression(self, source, *args, **kwargs):
        seen.append(source)
        return compile_expression(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting_compile)
    monkeypatch.setattr(jinja2.Environment, "compile_expression", counting_expression)
    return seen


def manager(hosts="gateway1,device1,"):
    loader = DataLoader()
    return VariableManager(loader=loader, inventory=InventoryManager(loader=loader, sources=[hosts]))


def templar():
    return core_private.FastRender(Templar(loader=DataLoader()), manager()).templar()


def test_each_text_is_compiled_once_and_evaluated_with_each_hosts_variables(compiles):
    evaluate = templar()
    text, condition = trust_as_template("{{ name | upper }}/{{ n + 1 }}"), trust_as_template("n > 1")
    assert [evaluate.template(text, {"name": name, "n": n}) for name, n in (("a", 1), ("b", 2))] == ["A/2", "B/3"]
    assert [evaluate.condition(condition, {"n": n}) for n in (1, 2, 3)] == [False, True, True]
    assert compiles.count(text) == 1
    assert compiles.count(condition) == 1


def test_a_text_with_a_backslash_is_compiled_each_time_and_escaped_as_ansible_does(compiles):
    evaluate = templar()
    text = trust_as_template('{{ x | regex_replace("^(a)", "\\1-") }}')
    expected = Templar(loader=DataLoader(), variables={"x": "ab"}).template(text)
    assert [evaluate.template(text, {"x": "ab"}), evaluate.template(text, {"x": "ab"})] == [expected, expected]
    assert compiles.count(text) == 3  # twice here, once by the plain templar


def test_data_keeps_what_the_expression_made_and_template_finalises_it():
    evaluate = templar()
    routes = [{"prefix": f"10.0.{i}.0/24", "via": ["10.64.0.1"]} for i in range(3)]
    value = trust_as_template("{{ routes }}")
    data = evaluate.data(value, {"routes": routes})
    assert data == routes and data.__class__ is list  # a plain list, not Ansible's lazy one
    assert all(mine is theirs for mine, theirs in zip(data, routes, strict=True))  # the routes themselves are not copied
    finalised = evaluate.template(value, {"routes": routes})
    assert finalised == routes and finalised[0] is not routes[0]
    assert evaluate.data(trust_as_template("{{ on and n > 1 }}"), {"on": True, "n": 2}) is True


def test_an_undefined_variable_fails_as_in_ansible():
    evaluate = templar()
    with pytest.raises(Exception, match="missing"):
        evaluate.template(trust_as_template("{{ missing }}"), {})
    with pytest.raises(Exception, match="missing"):
        evaluate.data(trust_as_template("{{ missing }}"), {})


def test_this_ansible_core_has_what_the_fast_render_uses():
    core = core_private.FastRender(Templar(loader=DataLoader()), manager())
    assert core.host("device1").name == "device1"
    assert core.host("nobody") is None
    generated = core.template_vars(path="x.j2", fullpath=__file__, dest_path="/etc/x")
    assert generated["template_destpath"] == "/etc/x" and "ansible_managed" in generated


class CopiesTo:
    """A templar whose copies are ``copy``: what a future ansible-core might hand out."""

    def __init__(self, copy):
        self.copy = copy

    def copy_with_new_env(self, **_options):
        return self.copy


def engine(**attributes):
    return types.SimpleNamespace(_engine=types.SimpleNamespace(**attributes))


@pytest.mark.parametrize(
    "copy, missing",
    [
        (types.SimpleNamespace(), r"Templar\._engine"),
        (engine(environment=jinja2.Environment()), r"TemplateEngine\.resolve_to_container"),
        (engine(resolve_to_container=lambda value: value), r"TemplateEngine\.environment"),
        (engine(resolve_to_container=lambda value: value, environment=object()), "compile"),
    ],
)
def test_a_templar_without_an_internal_is_unsupported(copy, missing):
    with pytest.raises(core_private.Unsupported, match=missing):
        core_private.FastRender(CopiesTo(copy), manager())


def test_an_inventory_out_of_reach_is_unsupported():
    with pytest.raises(core_private.Unsupported, match=r"VariableManager\._inventory"):
        core_private.FastRender(Templar(loader=DataLoader()), types.SimpleNamespace(extra_vars={}))


def test_an_engine_that_answers_differently_is_unsupported(monkeypatch):
    real = core_private.TaskTemplar.data
    monkeypatch.setattr(core_private.TaskTemplar, "data", lambda self, value, variables: [dict(item) for item in real(self, value, variables)])
    with pytest.raises(core_private.Unsupported, match="answered"):
        core_private.FastRender(Templar(loader=DataLoader()), manager())
    monkeypatch.setattr(core_private.TaskTemplar, "data", lambda self, value, variables: 1 / 0)
    with pytest.raises(core_private.Unsupported, match=r"failed a check \(ZeroDivisionError"):
        core_private.FastRender(Templar(loader=DataLoader()), manager())


@pytest.mark.parametrize("value", ["0", "false", "no", "off"])
def test_the_environment_variable_turns_the_fast_render_off(monkeypatch, value):
    monkeypatch.setenv(core_private.FORCE_VARIABLE, value)
    with pytest.raises(core_private.Unsupported, match=f"WGSDN_RENDER_FAST={value} is set"):
        core_private.FastRender(Templar(loader=DataLoader()), manager())
    monkeypatch.setenv(core_private.FORCE_VARIABLE, "1")
    assert core_private.FastRender(Templar(loader=DataLoader()), manager())


def _private_uses(path):
    """(line, text) of each use of a private name of another object or module in ``path``:
    ``obj._name`` (not ``self._name``: a plugin's own attributes, set by ActionBase and LookupBase),
    a ``"_name"`` given to getattr-like helpers, an import of an ``ansible._...`` module."""
    tree = ast.parse(path.read_text())
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                uses.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and any(isinstance(a, ast.Constant) and re.fullmatch(r"_[A-Za-z]\w*", str(a.value)) for a in node.args[1:2]):
            uses.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
            uses.extend((node.lineno, name) for name in names if name.startswith("ansible.") and any(part.startswith("_") for part in name.split(".")))
    return uses


def test_only_this_module_reaches_into_ansible_core():
    plugins = pathlib.Path(core_private.__file__).resolve().parents[1]
    elsewhere = {str(p.relative_to(plugins)): _private_uses(p) for p in sorted(plugins.rglob("*.py")) if p.name != "core_private.py"}
    assert {name: uses for name, uses in elsewhere.items() if uses} == {}
    here = {text for _line, text in _private_uses(pathlib.Path(core_private.__file__))}
    assert any("'_engine'" in text for text in here) and any("'_inventory'" in text for text in here), here
