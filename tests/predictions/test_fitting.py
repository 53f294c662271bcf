"""The pure-Python pieces against closed forms and known values (no database)."""

from __future__ import annotations

import math

import pytest

from saleor_crm_plugin.predictions.fitting import (
    BGNBD,
    expected_if_alive,
    hyp2f1,
    nelder_mead,
    p_alive,
)


@pytest.mark.parametrize("z", [0.0, 0.3, 0.9, 0.99])
def test_hyp2f1_matches_its_closed_forms(z):
    # 2F1(1, 1; 2; z) = -ln(1 - z) / z and 2F1(a, b; b; z) = (1 - z)^-a.
    expected = -math.log1p(-z) / z if z else 1.0
    assert hyp2f1(1, 1, 2, z) == pytest.approx(expected, rel=1e-10)
    assert hyp2f1(0.7, 2.5, 2.5, z) == pytest.approx((1 - z) ** -0.7, rel=1e-10)


def test_nelder_mead_finds_the_minimum_of_a_bowl():
    point, value = nelder_mead(lambda v: (v[0] - 3) ** 2 + 2 * (v[1] + 1) ** 2 + 5, [0.0, 0.0])
    assert point == pytest.approx([3, -1], abs=1e-3) and value == pytest.approx(5, abs=1e-6)


def test_p_alive_and_expected_purchases_follow_the_papers_cdnow_example():
    """Fader, Hardie & Lee (2005), CDNOW: r 0.243, alpha 4.414, a 0.793, b 2.426 (weeks). A
    customer with 2 repeat purchases, the last at week 30.43, observed for 38.86 weeks, is
    expected to make 1.226 purchases in the next 39 weeks (their worked example)."""
    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    alive = p_alive(model, 2, 30.43, 38.86)
    assert expected_if_alive(model, 2, 38.86, 39) * alive == pytest.approx(1.226, abs=0.002)
    assert p_alive(model, 0, 0, 38.86) == 1.0
