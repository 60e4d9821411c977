"""Loads the conformance pytest plugin for ``pytest conformance --target=…`` (see conformance/plugin.py)."""

from conformance.plugin import (  # noqa: F401 - pytest discovers hooks and fixtures by name
    conformance_target,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_makereport,
)
