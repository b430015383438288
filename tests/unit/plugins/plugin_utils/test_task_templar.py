"""task_templar: one templar for many hosts' evaluations of the same task texts (compiled once; data results not copied)."""

import jinja2
import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import task_templar


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


def templar():
    plain = Templar(loader=DataLoader())
    assert task_templar.supported(plain)
    return task_templar.TaskTemplar(plain)


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


def test_a_templar_without_the_engine_is_not_supported():
    assert not task_templar.supported(object())
