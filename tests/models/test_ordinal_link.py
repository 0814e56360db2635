import numpy as np
import pytest
from scipy.special import expit

from models.ordinal_link import (
    COMBINE,
    FitLink,
    class_likelihood,
    combine_proba,
    fisher_information,
    link_proba,
)


def test_link_at_literal_gaps():
    q = link_proba(np.array([0.0, -1.0, 2.0]), 4.0, 0.8)
    small, large = expit(-3.2), expit(-3.2)
    np.testing.assert_allclose(q[0], [small, 1 - small - large, large])
    np.testing.assert_allclose(q[1], [expit(0.8), 1 - expit(0.8) - expit(-7.2), expit(-7.2)])
    np.testing.assert_allclose(q[2, 2], expit(4.8))
    np.testing.assert_allclose(q.sum(axis=1), 1.0)


def test_fit_never_cancels_below_zero_far_from_the_fit_zone():
    q = link_proba(np.array([-40.0, 40.0]), 4.0, 0.8)
    assert (q[:, 1] > 0).all() and (q[:, 1] < 1e-60).all()


def test_uncertainty_flattens_the_link():
    sure, unsure = link_proba(np.zeros(1), 4.0, 0.8), link_proba(np.zeros(1), 4.0, 0.8, var=1.0)
    assert unsure[0, 1] < sure[0, 1]
    np.testing.assert_allclose(unsure.sum(), 1.0)


def test_two_dimensions_combine_as_documented():
    rng = np.random.default_rng(0)
    q0, q1 = rng.dirichlet([1, 1, 1], 6), rng.dirichlet([1, 1, 1], 6)
    expected = np.einsum("ni,yij,nj->ny", q0, COMBINE, q1)
    np.testing.assert_allclose(combine_proba(q0, q1), expected)
    np.testing.assert_allclose(combine_proba(q0, q1).sum(axis=1), 1.0)
    np.testing.assert_array_equal(combine_proba(q0), q0)
    # tight band, cups fit -> too small; both fit -> fit; loose band, small cups -> split
    lit = combine_proba(
        np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]]), np.array([[0, 1.0, 0], [0, 1, 0], [1, 0, 0]])
    )
    np.testing.assert_allclose(lit, [[1, 0, 0], [0, 1, 0], [0.5, 0, 0.5]])


@pytest.mark.parametrize("two_d", [False, True])
def test_likelihood_derivatives_match_finite_differences(two_d):
    rng = np.random.default_rng(1)
    n = 12
    y = rng.integers(0, 3, n)
    z0, z1 = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n)
    a0, h0, a1, h1 = 3.0, 0.7, 2.0, 1.1

    def p(z0=z0, a0=a0, h0=h0, z1=z1):
        extra = (z1, a1, h1) if two_d else ()
        return class_likelihood(y, z0, a0, h0, *extra)[0]

    _, d0, d1 = class_likelihood(y, z0, a0, h0, *((z1, a1, h1) if two_d else ()))
    eps = 1e-6
    np.testing.assert_allclose(d0[0], (p(z0=z0 + eps) - p(z0=z0 - eps)) / (2 * eps), atol=1e-7)
    da = (p(a0=a0 * np.exp(eps)) - p(a0=a0 * np.exp(-eps))) / (2 * eps)
    dh = (p(h0=h0 * np.exp(eps)) - p(h0=h0 * np.exp(-eps))) / (2 * eps)
    np.testing.assert_allclose(d0[1], da, atol=1e-7)
    np.testing.assert_allclose(d0[2], dh, atol=1e-7)
    if two_d:
        np.testing.assert_allclose(d1[0], (p(z1=z1 + eps) - p(z1=z1 - eps)) / (2 * eps), atol=1e-7)
        q = combine_proba(link_proba(z0, a0, h0), link_proba(z1, a1, h1))
        np.testing.assert_allclose(p(), q[np.arange(n), y])
    else:
        assert d1 is None


def test_fisher_information_is_the_expected_squared_score():
    z = np.array([-1.0, 0.0, 0.4])
    info, _ = fisher_information(z, 3.0, 0.7)
    eps = 1e-6
    q, qp, qm = (link_proba(z + e, 3.0, 0.7) for e in (0.0, eps, -eps))
    expected = (((qp - qm) / (2 * eps)) ** 2 / q).sum(axis=1)
    np.testing.assert_allclose(info, expected, rtol=1e-5)


@pytest.mark.parametrize(("kind", "dims"), [("sum", 2), ("both", 2), ("sum", 1)])
def test_fit_link_derivatives_match_finite_differences(kind, dims):
    rng = np.random.default_rng(2)
    n = 10
    y = rng.integers(0, 3, n)
    z = rng.normal(0, 1.2, (n, dims))
    link = FitLink(kind, dims)
    link = link.with_params(link.params + rng.normal(0, 0.3, link.params.size))
    p, dz, dparams = link.likelihood(y, z)
    np.testing.assert_allclose(p, link.recorded_proba(z)[np.arange(n), y])
    eps = 1e-6
    for d in range(dims):
        step = np.zeros_like(z)
        step[:, d] = eps
        numeric = (link.likelihood(y, z + step)[0] - link.likelihood(y, z - step)[0]) / (2 * eps)
        np.testing.assert_allclose(dz[:, d], numeric, atol=1e-7)
    for j in range(link.params.size):
        e = np.zeros(link.params.size)
        e[j] = eps
        up, down = link.with_params(link.params + e), link.with_params(link.params - e)
        numeric = (up.likelihood(y, z)[0] - down.likelihood(y, z)[0]) / (2 * eps)
        np.testing.assert_allclose(dparams[:, j], numeric, atol=1e-7)
    assert (link.information(z) > 0).all()


def test_summed_link_weighs_the_band_and_records_fewer_misfits():
    link = FitLink("sum", 2, np.array([np.log(4.0), np.log(0.7), np.log(0.8), 0.0]))
    assert link.band_weight == pytest.approx(0.8) and link.report_rate == pytest.approx(0.5)
    z = np.array([[1.0, 0.0], [-1.0, 1.0]])  # a band too big; a sister-ish mix
    np.testing.assert_allclose(link.proba(z), link_proba(np.array([0.8, 0.2]), 4.0, 0.7))
    true, recorded = link.proba(z), link.recorded_proba(z)
    np.testing.assert_allclose(recorded[:, [0, 2]], 0.5 * true[:, [0, 2]])
    np.testing.assert_allclose(recorded.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="unknown link 'max'; valid: sum, both"):
        FitLink("max", 2)
