"""Shared fixtures of the Python binding's tests."""

from __future__ import annotations

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"


@pytest.fixture
def ecommerce():
    import jornada as jd

    return jd.Model.preset("ecommerce")


@pytest.fixture
def engine(ecommerce):
    import jornada as jd

    return jd.Engine(ecommerce)
