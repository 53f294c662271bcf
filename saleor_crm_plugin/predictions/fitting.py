"""BG/NBD and Gamma-Gamma in pure Python: likelihoods, a Nelder-Mead fit, the 2F1 series.

Saleor's pins carry no numpy or scipy, and the fit does not need them: it runs over the
customers' statistics compressed by SQL into distinct buckets with counts (a few thousand rows
for any store size), so its cost does not grow with the number of customers.

BG/NBD (Fader, Hardie and Lee, "Counting your customers the easy way", 2005): while alive, a
customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)``; after each purchase they drop
out with probability ``p ~ Beta(a, b)``. Per customer it needs only ``x`` (repeat purchases),
``t_x`` (time of the last purchase since the first) and ``T`` (time since the first purchase).
Gamma-Gamma (Fader, Hardie and Lee, 2005, "RFM and CLV") models the mean order value of
customers with ``x`` purchases averaging ``m``, shrinking a short record towards the store's mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# (x, t_x, T, customers) with times in the fit's unit, and (x, mean value, customers).
Bucket = tuple[int, float, float, int]
ValueBucket = tuple[int, float, int]


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float  # in days
    a: float
    b: float


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float  # in the base currency's minor units


def nelder_mead(
    f: Callable[[list[float]], float],
    start: Sequence[float],
    *,
    step: float = 0.5,
    tolerance: float = 1e-7,
    max_evaluations: int = 4000,
) -> tuple[list[float], float]:
    """Minimise ``f`` from ``start`` (the classic simplex method, restarted once from its own
    result, which guards against a simplex collapsed early). Returns (point, value)."""
    best, value = list(start), f(list(start))
    for _ in range(2):
        best, value = _simplex(f, best, step, tolerance, max_evaluations)
    return best, value


def _simplex(
    f: Callable[[list[float]], float],
    start: list[float],
    step: float,
    tolerance: float,
    max_evaluations: int,
) -> tuple[list[float], float]:
    n = len(start)
    points = [list(start)]
    for i in range(n):
        point = list(start)
        point[i] += step
        points.append(point)
    values = [f(p) for p in points]
    evaluations = n + 1
    while evaluations < max_evaluations:
        order = sorted(range(n + 1), key=values.__getitem__)
        points = [points[i] for i in order]
        values = [values[i] for i in order]
        if abs(values[-1] - values[0]) <= tolerance * (abs(values[0]) + tolerance):
            break
        centroid = [sum(p[i] for p in points[:-1]) / n for i in range(n)]
        worst = points[-1]

        def towards(
            k: float, centroid: list[float] = centroid, worst: list[float] = worst
        ) -> list[float]:
            return [c + k * (w - c) for c, w in zip(centroid, worst, strict=True)]

        reflected = towards(-1.0)
        fr = f(reflected)
        evaluations += 1
        if fr < values[0]:
            expanded = towards(-2.0)
            fe = f(expanded)
            evaluations += 1
            points[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            points[-1], values[-1] = reflected, fr
        else:
            contracted = towards(0.5 if fr >= values[-1] else -0.5)
            fc = f(contracted)
            evaluations += 1
            if fc < min(fr, values[-1]):
                points[-1], values[-1] = contracted, fc
            else:  # shrink towards the best point
                for i in range(1, n + 1):
                    points[i] = [
                        b + 0.5 * (p - b) for b, p in zip(points[0], points[i], strict=True)
                    ]
                    values[i] = f(points[i])
                evaluations += n
    i = min(range(n + 1), key=values.__getitem__)
    return points[i], values[i]


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, buckets: Sequence[Bucket]
) -> float:
    """The BG/NBD log-likelihood of the store's customers, summed over buckets."""
    per_x: dict[int, tuple[float, float]] = {}
    total = 0.0
    log_alpha = math.log(alpha)
    shared = math.lgamma(a + b) - math.lgamma(b) - math.lgamma(r) + r * log_alpha
    for x, t_x, age, count in buckets:
        known = per_x.get(x)
        if known is None:
            head = shared + math.lgamma(r + x) + math.lgamma(b + x) - math.lgamma(a + b + x)
            dropped = math.log(a) - math.log(b + x - 1) if x > 0 else 0.0
            known = per_x[x] = (head, dropped)
        head, dropped = known
        alive = -(r + x) * math.log(alpha + age)
        if x > 0:
            gone = dropped - (r + x) * math.log(alpha + t_x)
            top = max(alive, gone)
            tail = top + math.log(math.exp(alive - top) + math.exp(gone - top))
        else:
            tail = alive
        total += count * (head + tail)
    return total


def fit_bgnbd(buckets: Sequence[Bucket], unit_days: float) -> tuple[BGNBD, float]:
    """Maximum likelihood (r, alpha, a, b) over the buckets (times in units of ``unit_days``);
    alpha is returned in days. Returns the parameters and the log-likelihood."""
    customers = sum(c for *_, c in buckets) or 1
    mean_age = sum(t * c for _, _, t, c in buckets) / customers or 1.0

    def cost(v: list[float]) -> float:
        if max(v) > 30 or min(v) < -30:
            return math.inf
        r, alpha, a, b = (math.exp(u) for u in v)
        return -bgnbd_log_likelihood(r, alpha, a, b, buckets) / customers

    start = [0.0, math.log(mean_age), 0.0, 0.0]
    best, value = nelder_mead(cost, start)
    r, alpha, a, b = (math.exp(u) for u in best)
    return BGNBD(r=r, alpha=alpha * unit_days, a=a, b=b), -value * customers


def gamma_gamma_log_likelihood(
    p: float, q: float, gamma: float, buckets: Sequence[ValueBucket]
) -> float:
    total = 0.0
    fixed = q * math.log(gamma) - math.lgamma(q)
    for x, m, count in buckets:
        px = p * x
        total += count * (
            math.lgamma(px + q) - math.lgamma(px) + fixed + (px - 1) * math.log(m)
            + px * math.log(x) - (px + q) * math.log(gamma + m * x)
        )  # fmt: skip
    return total


def fit_gamma_gamma(buckets: Sequence[ValueBucket]) -> tuple[GammaGamma, float]:
    """Maximum likelihood (p, q, gamma) over (purchases, mean value, customers) buckets."""
    customers = sum(c for *_, c in buckets) or 1
    mean = sum(m * c for _, m, c in buckets) / customers

    def cost(v: list[float]) -> float:
        if max(abs(u) for u in v[:2]) > 30 or abs(v[2] - math.log(mean)) > 30:
            return math.inf
        p, q, gamma = (math.exp(u) for u in v)
        return -gamma_gamma_log_likelihood(p, q, gamma, buckets) / customers

    best, value = nelder_mead(cost, [0.0, math.log(3.0), math.log(mean)])
    p, q, gamma = (math.exp(u) for u in best)
    return GammaGamma(p=p, q=q, gamma=gamma), -value * customers


def hyp2f1(a: float, b: float, c: float, z: float) -> float:
    """Gauss's hypergeometric function by its series, for 0 <= z < 1 (all BG/NBD needs)."""
    term = total = 1.0
    for k in range(200_000):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
        if abs(term) <= 1e-13 * abs(total):
            break
    return total


def expected_if_alive(model: BGNBD, x: int, age_days: float, horizon_days: float) -> float:
    """Expected purchases in the next ``horizon_days`` of a customer with ``x`` repeat purchases
    first seen ``age_days`` ago, before multiplying by P(alive) (which needs ``t_x`` too and has
    a closed form computed in SQL). Depends on (x, T) only, so it is computed once per pair."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    t = horizon_days
    z = t / (alpha + age_days + t)
    decay = ((alpha + age_days) / (alpha + age_days + t)) ** (r + x)
    return (a + b + x - 1) / (a - 1) * (1 - decay * hyp2f1(r + x, b + x, a + b + x - 1, z))


def p_alive(model: BGNBD, x: int, t_x: float, age: float) -> float:
    """P(still a customer); the same formula runs in SQL over every customer."""
    if x == 0:
        return 1.0
    log_odds = math.log(model.a / (model.b + x - 1)) + (model.r + x) * math.log(
        (model.alpha + age) / (model.alpha + t_x)
    )
    return 1.0 / (1.0 + math.exp(min(log_odds, 700.0)))


def expected_order_value(model: GammaGamma, x: int, mean: float) -> float:
    """The customer's expected mean order value: their own mean weighted by how many orders
    it rests on, against the store's ``p * gamma / (q - 1)``."""
    return (model.gamma + mean * x) * model.p / (model.p * x + model.q - 1)
