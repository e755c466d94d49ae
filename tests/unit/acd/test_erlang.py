"""Erlang C against figures worked by hand and published tables."""

from __future__ import annotations

import math

import pytest

from hotline.acd.erlang import (
    average_speed_of_answer,
    offered_load,
    probability_of_waiting,
    service_level,
)


def test_offered_load() -> None:
    assert offered_load(360, 180) == pytest.approx(18.0)


def test_one_agent_is_mm1() -> None:
    # M/M/1: P(wait) = rho
    assert probability_of_waiting(1, 0.6) == pytest.approx(0.6)


def test_two_agents_by_hand() -> None:
    # A = 1: C(2, 1) = (A^2/2! * 2/(2-1)) / (1 + A + A^2/2! * 2/(2-1)) = 1/3
    assert probability_of_waiting(2, 1.0) == pytest.approx(1 / 3)
    # SL(20 s, AHT 60 s) = 1 - 1/3 * exp(-(2-1) * 20/60)
    assert service_level(2, 60, 60, 20) == pytest.approx(1 - math.exp(-1 / 3) / 3)
    assert average_speed_of_answer(2, 60, 60) == pytest.approx(20.0)


def _erlang_c_direct(n: int, a: float) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("n", "a"), [(3, 2.0), (10, 8.5), (20, 18.0), (50, 45.0)])
def test_recurrence_matches_the_direct_formula(n: int, a: float) -> None:
    assert probability_of_waiting(n, a) == pytest.approx(_erlang_c_direct(n, a), rel=1e-9)


def test_overload_and_idle() -> None:
    assert probability_of_waiting(3, 3.0) == 1.0
    assert service_level(3, 360, 30, 20) == 0.0
    assert average_speed_of_answer(3, 360, 30) == math.inf
    assert probability_of_waiting(3, 0.0) == 0.0
