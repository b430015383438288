"""Moved to the test kit (``wgsdn_testkit.playbooks``); kept only for the Molecule verifier that still imports ``tool`` from here."""

from wgsdn_testkit.playbooks import tool

__all__ = ["tool"]
