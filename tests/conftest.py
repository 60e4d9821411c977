from __future__ import annotations

import pytest

from tests.harness import Harness


@pytest.fixture(params=["ga", "beta"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def h(dialect: str) -> Harness:
    return Harness(dialect)
