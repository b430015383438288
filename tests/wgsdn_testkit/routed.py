"""Checks shared by the routed scenarios (topology3, dualhomed): every link watched by
BFD, every host reaching every other in every address family it has (managed hosts:
unmanaged clients come and go). A scenario's test module binds ``TestRoutedFabric``
where these checks should run in its order, and pytest runs them there for every host.
"""

import pytest

from . import fabric, ping, scenario


class TestRoutedFabric:
    """The checks every routed scenario runs on every host."""

    @pytest.mark.parametrize("name", scenario.managed())
    def test_bfd_up_on_every_link(self, name):
        fabric.assert_bfd_up_on_every_link(name)

    @pytest.mark.parametrize("name", scenario.managed())
    def test_ping_matrix(self, name):
        targets = [a for n in scenario.managed() if n != name for a in scenario.addresses(n)]
        loss = ping.ping_all(scenario.host(name), targets)
        assert loss == {t: 0 for t in targets}, loss
