"""Make the checkout importable as ansible_collections.wgsdn.fabric (the test kit does) and share builders."""

import pytest
import wgsdn_testkit  # noqa: F401  importing the kit makes this checkout importable as the collection

# The article's three topologies, with its addresses.
NETWORK = "10.0.0.0/24"


def article_topology(number):
    """(gateways, devices, hostvars) of the source article's topology 1, 2 or 3."""
    net = {"wgsdn_network": NETWORK}
    if number == 1:
        return (
            [],
            ["device1", "device2"],
            {
                "device1": dict(net, wgsdn_address="10.0.0.1"),
                "device2": dict(net, wgsdn_address="10.0.0.2", wgsdn_listen_port=51820),
            },
        )
    if number == 2:
        return (
            ["device2"],
            ["device1", "device3"],
            {
                "device1": dict(net, wgsdn_address="10.0.0.1"),
                "device2": dict(net, wgsdn_address="10.0.0.2"),
                "device3": dict(net, wgsdn_address="10.0.0.3"),
            },
        )
    return (
        ["gateway1", "gateway2"],
        ["device1", "device2", "device3", "device4"],
        {
            "gateway1": dict(net, wgsdn_address="10.0.0.2"),
            "gateway2": dict(net, wgsdn_address="10.0.0.5"),
            "device1": dict(net, wgsdn_address="10.0.0.1", wgsdn_uplinks=["gateway1"]),
            "device2": dict(net, wgsdn_address="10.0.0.3", wgsdn_uplinks=["gateway1"]),
            "device3": dict(net, wgsdn_address="10.0.0.4", wgsdn_uplinks=["gateway2"]),
            "device4": dict(net, wgsdn_address="10.0.0.6", wgsdn_uplinks=["gateway2"]),
        },
    )


@pytest.fixture
def state_path(tmp_path):
    return tmp_path / ".wgsdn-state.json"
