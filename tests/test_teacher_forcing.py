"""The output-recurrent network and teacher forcing (rnnlib.teacher_forcing), §10.2.1.

Expected values come from independent routes: a two-step case written out by hand
in scalars, central finite differences, HIPS ``autograd`` on a separate plain
implementation (free running included), and the frequencies of sequences sampled by
the free-running network (which must match (10.15)).
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad

from rnnlib import (
    OutputRecurrentParams,
    free_running_loss_and_grads,
    init_output_recurrent,
    numerical_gradient,
    output_recurrent_forward,
    sequence_log_prob,
    step_losses,
    teacher_forced_log_probs,
    teacher_forced_loss_and_grads,
)

FD_TOL = 1e-6        # central finite differences, float64, relative (max-norm)
AUTOGRAD_TOL = 1e-10  # independent autodiff, float64
HAND_TOL = 1e-12     # a case computed by hand in scalars
F32_RTOL = 2e-4      # float32 against float64
SAMPLES = 200_000    # sequences drawn to estimate p(y1, y2 | x)
MC_ATOL = 6e-3       # > 4 standard errors of a frequency at p <= 0.5 and 200k draws
NAMES = ("U", "W", "V", "b", "c")
CONFIGS = [  # (T, B, n_in, H, n_out, dense)
    (4, 3, 5, 4, 3, False),
    (1, 1, 2, 1, 2, False),
    (6, 2, 3, 5, 4, True),
    (3, 5, 4, 2, 6, False),
]


def problem(T, B, n_in, H, n_out, dense, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    p = init_output_recurrent(n_in, H, n_out, seed=rng, dtype=dtype, scale=0.9)
    p = p.replace(b=(0.3 * rng.standard_normal(H)).astype(dtype),
                  c=(0.3 * rng.standard_normal(n_out)).astype(dtype))
    x = (rng.standard_normal((T, B, n_in)).astype(dtype) if dense
         else rng.integers(0, n_in, (T, B)))
    y = rng.integers(0, n_out, (T, B))
    return p, x, y


def rel_err(got, want):
    scale = max(np.abs(want).max(), np.abs(got).max(), 1e-300)
    return float(np.abs(got - want).max() / scale)


# ------------------------------------------------------- an independent oracle


def plain_loss(arrs, x, y, n_in, free):
    """The loss written from the book's formulas one step and one sequence at a time,
    in autograd.numpy; the fed-back vector is the one-hot target or ŷ^(t-1)."""
    U, W, V, b, c = arrs
    T, B = y.shape
    n_out = V.shape[0]
    total = 0.0
    for s in range(B):
        prev = anp.zeros(n_out)
        for t in range(T):
            xt = np.eye(n_in)[x[t, s]] if x.ndim == 2 else x[t, s]
            a = b + anp.dot(W, prev) + anp.dot(U, xt)     # a = b + W y^(t-1) + U x
            o = c + anp.dot(V, anp.tanh(a))
            log_yhat = o - anp.log(anp.sum(anp.exp(o)))
            total = total - log_yhat[y[t, s]]
            prev = anp.exp(log_yhat) if free else np.eye(n_out)[y[t, s]]
    return total


@pytest.mark.equation("10.15", "10.16")
@pytest.mark.parametrize("free", [False, True], ids=["teacher", "free"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_loss_and_grads_match_autograd(cfg, free):
    p, x, y = problem(*cfg)
    arrs = [p.U, p.W, p.V, p.b, p.c]
    fn = free_running_loss_and_grads if free else teacher_forced_loss_and_grads
    loss, g = fn(p, x, y)
    assert abs(loss - plain_loss(arrs, x, y, p.n_in, free)) <= AUTOGRAD_TOL * abs(loss)
    want = autograd_grad(plain_loss)(arrs, x, y, p.n_in, free)
    for name, w in zip(NAMES, want, strict=True):
        assert rel_err(getattr(g, name), w) < AUTOGRAD_TOL, name


@pytest.mark.equation("10.16")
@pytest.mark.parametrize("free", [False, True], ids=["teacher", "free"])
@pytest.mark.parametrize("name", NAMES)
def test_grads_match_finite_differences(name, free):
    p, x, y = problem(5, 3, 4, 3, 4, False, seed=1)
    fn = free_running_loss_and_grads if free else teacher_forced_loss_and_grads
    _, g = fn(p, x, y)
    num = numerical_gradient(lambda A: fn(p.replace(**{name: A}), x, y)[0],
                             getattr(p, name))
    assert rel_err(getattr(g, name), num) < FD_TOL


def test_free_running_gradient_differs_from_teacher_forced():
    """Not the same computation: feeding ŷ back adds the BPTT terms."""
    p, x, y = problem(5, 3, 4, 3, 4, False, seed=2)
    _, g_tf = teacher_forced_loss_and_grads(p, x, y)
    _, g_fr = free_running_loss_and_grads(p, x, y)
    assert rel_err(g_fr.W, g_tf.W) > 1e-2


# ----------------------------------------------------------- by hand, T = 2


@pytest.mark.equation("10.15", "10.16")
def test_two_steps_by_hand():
    """n_in = H = 1, n_out = 2, ids x = (0, 0), y = (1, 0), written out in scalars."""
    U, W, V = np.array([[0.5]]), np.array([[0.3, -0.7]]), np.array([[1.2], [-0.4]])
    b, c = np.array([0.1]), np.array([0.2, -0.1])
    p = OutputRecurrentParams(U=U, W=W, V=V, b=b, c=c)
    x, y = np.array([[0], [0]]), np.array([[1], [0]])
    h1 = np.tanh(0.1 + 0.5)                       # nothing fed back at t = 1
    o1 = np.array([0.2 + 1.2 * h1, -0.1 - 0.4 * h1])
    h2 = np.tanh(0.1 + 0.5 - 0.7)                 # W's column of y^(1) = 1
    o2 = np.array([0.2 + 1.2 * h2, -0.1 - 0.4 * h2])
    log_p1 = o1[1] - np.log(np.exp(o1).sum())     # log p(y1 = 1 | x)
    log_p2 = o2[0] - np.log(np.exp(o2).sum())     # log p(y2 = 0 | y1 = 1, x)
    got = teacher_forced_log_probs(p, x, y)
    assert got.shape == (2, 1)
    assert rel_err(got[:, 0], np.array([log_p1, log_p2])) < HAND_TOL
    assert abs(sequence_log_prob(p, x, y)[0] - (log_p1 + log_p2)) < HAND_TOL


@pytest.mark.equation("10.15")
def test_sequence_log_prob_is_the_frequency_of_free_running_samples():
    """(10.15): p(y1, y2 | x) is how often the network, feeding back its own samples,
    emits (y1, y2); estimated from SAMPLES draws (an independent route)."""
    n_out = 3
    p, _, _ = problem(2, 1, 2, 3, n_out, False, seed=3)
    x = np.zeros((2, SAMPLES), dtype=int)
    fwd = output_recurrent_forward(p, x, mode="free", feed="sample",
                                   rng=np.random.default_rng(4))
    y1 = fwd.fed[1].argmax(-1)  # step 2 is fed the sample drawn at step 1 ...
    u = np.random.default_rng(5).random(SAMPLES)[:, None]  # ... and draws y2 from ŷ^(2)
    y2 = np.minimum((np.cumsum(fwd.yhat[1], -1) < u).sum(-1), n_out - 1)
    seqs = np.stack([y1, y2])  # (2, SAMPLES)
    for k1 in range(n_out):
        for k2 in range(n_out):
            freq = np.mean((seqs[0] == k1) & (seqs[1] == k2))
            want = np.exp(sequence_log_prob(p, np.zeros((2, 1), int),
                                            np.array([[k1], [k2]]))[0])
            assert abs(freq - want) < MC_ATOL, (k1, k2, freq, want)


@pytest.mark.equation("10.16")
def test_conditionals_of_each_step_sum_to_one():
    """Each term of (10.16) is a normalised conditional: Σ_k p(y^(t)=k | …) = 1."""
    p, x, y = problem(4, 3, 5, 4, 3, False)
    total = np.zeros((4, 3))
    for k in range(p.n_out):
        yk = y.copy()
        yk[2] = k  # vary step 3's target only; earlier targets fixed
        total += np.exp(teacher_forced_log_probs(p, x, yk))
    np.testing.assert_allclose(total[2], 1.0, rtol=1e-12)


# ---------------------------------------------------------- forward modes


def test_teacher_mode_feeds_the_previous_target():
    p, x, y = problem(4, 3, 5, 4, 3, False)
    fwd = output_recurrent_forward(p, x, y, mode="teacher")
    assert not fwd.fed[0].any()
    np.testing.assert_array_equal(fwd.fed[1:].argmax(-1), y[:-1])
    np.testing.assert_array_equal(fwd.fed.sum(-1)[1:], 1.0)
    np.testing.assert_allclose(-teacher_forced_log_probs(p, x, y),
                               step_losses(fwd.o, y), rtol=1e-13)


def test_free_mode_feeds_its_own_output():
    p, x, _ = problem(5, 3, 5, 4, 3, False)
    probs = output_recurrent_forward(p, x, mode="free", feed="probs")
    np.testing.assert_allclose(probs.fed[1:], probs.yhat[:-1], rtol=0)
    top = output_recurrent_forward(p, x, mode="free", feed="argmax")
    np.testing.assert_array_equal(top.fed[1:].argmax(-1), top.yhat[:-1].argmax(-1))
    # an argmax run is a teacher-forced run on its own predictions
    y_own = top.yhat.argmax(-1)
    forced = output_recurrent_forward(p, x, y_own, mode="teacher")
    np.testing.assert_allclose(forced.o, top.o, rtol=1e-13)


def test_sampling_is_reproducible_and_seeded():
    p, x, _ = problem(6, 4, 5, 4, 3, False)
    one = output_recurrent_forward(p, x, mode="free", rng=np.random.default_rng(7))
    two = output_recurrent_forward(p, x, mode="free", rng=7)
    np.testing.assert_array_equal(one.fed, two.fed)
    assert set(np.unique(one.fed)) <= {0.0, 1.0}


@pytest.mark.parametrize("cfg", CONFIGS[:3], ids=str)
def test_float32_agrees_with_float64(cfg):
    p64, x, y = problem(*cfg)
    p32 = OutputRecurrentParams(**{n: a.astype(np.float32)
                                   for n, a in p64.arrays().items()})
    x32 = x.astype(np.float32) if x.dtype.kind == "f" else x
    for fn in (teacher_forced_loss_and_grads, free_running_loss_and_grads):
        l64, g64 = fn(p64, x, y)
        l32, g32 = fn(p32, x32, y)
        assert abs(l32 - l64) <= F32_RTOL * abs(l64)
        for name in NAMES:
            assert getattr(g32, name).dtype == np.float32
            assert rel_err(getattr(g32, name), getattr(g64, name)) < F32_RTOL


# ----------------------------------------------------------------- bad input


def test_params_check_shapes_and_dtypes():
    p, _, _ = problem(2, 1, 3, 4, 5, False)
    with pytest.raises(ValueError, match=r"W must have shape \(4, 5\).*\(H, n_out\)"):
        p.replace(W=np.zeros((4, 4)))
    with pytest.raises(TypeError, match="parameters must share one dtype"):
        p.replace(b=p.b.astype(np.float32))
    with pytest.raises(TypeError, match="U must have dtype float32 or float64"):
        p.replace(U=p.U.astype(int))
    with pytest.raises(ValueError, match="c must be finite"):
        p.replace(c=np.full(5, np.nan))
    with pytest.raises(ValueError, match="V must be 2-D"):
        p.replace(V=np.zeros(5))


def test_init_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_out must be >= 1; got 0"):
        init_output_recurrent(3, 4, 0)
    with pytest.raises(TypeError, match="n_hidden must be an int"):
        init_output_recurrent(3, 4.0, 2)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        init_output_recurrent(3, 4, 2, dtype=np.int64)
    with pytest.raises(ValueError, match="scale must be a positive finite"):
        init_output_recurrent(3, 4, 2, scale=-1.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        init_output_recurrent(3, 4, 2, seed="x")


PUBLIC = [teacher_forced_loss_and_grads, free_running_loss_and_grads,
          teacher_forced_log_probs, sequence_log_prob]


@pytest.mark.parametrize("fn", PUBLIC, ids=lambda f: f.__name__)
def test_functions_reject_bad_input(fn):
    p, x, y = problem(3, 2, 5, 4, 3, False)
    with pytest.raises(TypeError, match="p must be rnnlib.OutputRecurrentParams"):
        fn(object(), x, y)
    with pytest.raises(ValueError, match=r"y must have shape \(3, 2\); got \(3, 3\)"):
        fn(p, x, np.zeros((3, 3), int))
    with pytest.raises(ValueError, match=r"y must hold ids in \[0, 3\)"):
        fn(p, x, y + 3)
    with pytest.raises(TypeError, match="y must hold integer token ids"):
        fn(p, x, y.astype(float))
    with pytest.raises(ValueError, match=r"x must hold ids in \[0, 5\)"):
        fn(p, x + 5, y)
    with pytest.raises(ValueError, match=r"x must have shape \(T, B\)"):
        fn(p, x[0], y)
    with pytest.raises(ValueError, match="at least one time step"):
        fn(p, x[:0], y[:0])
    with pytest.raises(ValueError, match="x must be finite"):
        fn(p, np.full((3, 2, 5), np.nan), y)


def test_forward_rejects_bad_modes():
    p, x, y = problem(3, 2, 5, 4, 3, False)
    with pytest.raises(ValueError, match="mode must be 'teacher' or 'free'; got 'tf'"):
        output_recurrent_forward(p, x, y, mode="tf")
    with pytest.raises(ValueError, match="y .* is needed in mode 'teacher'"):
        output_recurrent_forward(p, x, mode="teacher")
    with pytest.raises(ValueError, match="y must be None in mode 'free'"):
        output_recurrent_forward(p, x, y, mode="free")
    with pytest.raises(ValueError, match="feed must be 'sample', 'probs' or 'argmax'"):
        output_recurrent_forward(p, x, mode="free", feed="soft")
    with pytest.raises(ValueError, match="rng .* is needed with feed='sample'"):
        output_recurrent_forward(p, x, mode="free", feed="sample")
    with pytest.raises(TypeError, match="seed must be an int"):
        output_recurrent_forward(p, x, mode="free", feed="sample", rng="seed")
    with pytest.raises(TypeError, match="p must be rnnlib.OutputRecurrentParams"):
        output_recurrent_forward(None, x, mode="free", feed="argmax")
