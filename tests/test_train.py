"""Training, sampling, checkpoints and the command-line programs."""

import subprocess
import sys

import numpy as np
import pytest

from rnnlib.checkpoint import load_checkpoint, save_checkpoint
from rnnlib.sample import sample
from rnnlib.train import TrainConfig, evaluate, state_from_checkpoint, train

TEXT = "the cat sat on the mat. " * 40
SMALL = dict(
    hidden=16,
    seq_len=8,
    batch=4,
    eval_every=0,
    sample_every=0,
    dtype="float64",
    lr=0.02,
)


def test_tiny_model_overfits_a_repeated_string():
    state, vocab = train(TrainConfig(steps=300, **SMALL), TEXT, progress=False)
    ids = vocab.encode(TEXT)
    assert state.history["train_loss"][0] > 2.0  # ~ log(12 chars)
    assert np.mean(state.history["train_loss"][-20:]) < 0.05  # nats per character
    assert evaluate(state.params, ids) < 0.05


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    cfg20 = TrainConfig(steps=20, **SMALL)
    straight, _ = train(cfg20, TEXT, progress=False)
    path = tmp_path / "ck.npz"
    train(
        TrainConfig(steps=9, checkpoint_every=3, **SMALL),
        TEXT,
        progress=False,
        checkpoint=path,
    )
    state, vocab, _ = state_from_checkpoint(path)
    assert state.step == 9
    resumed, _ = train(cfg20, TEXT, state=state, vocab=vocab, progress=False)
    for name, a in straight.params.arrays().items():
        np.testing.assert_array_equal(getattr(resumed.params, name), a, err_msg=name)
    assert resumed.history["train_loss"] == straight.history["train_loss"]


def test_checkpoint_round_trip_without_pickle(tmp_path):
    state, vocab = train(TrainConfig(steps=3, **SMALL), TEXT, progress=False)
    path = save_checkpoint(
        tmp_path / "a.npz",
        state.params,
        vocab,
        state.step,
        state.opt_state,
        state.h,
        {"hidden": 16},
        state.history,
    )
    ck = load_checkpoint(path)
    assert ck.vocab == vocab and ck.step == 3 and ck.config == {"hidden": 16}
    for name, a in state.params.arrays().items():
        np.testing.assert_array_equal(getattr(ck.params, name), a)
    for k, v in state.opt_state.items():
        np.testing.assert_array_equal(ck.opt_state[k], v)
    with np.load(path, allow_pickle=False) as z:  # loads with pickle disabled
        assert "meta" in z.files
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]  # no temporary left


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    """A crash while writing leaves the previous checkpoint intact."""
    state, vocab = train(TrainConfig(steps=2, **SMALL), TEXT, progress=False)
    path = tmp_path / "ck.npz"
    save_checkpoint(path, state.params, vocab, 2, state.opt_state, state.h, {})
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, state.params, vocab, 3, state.opt_state, state.h, {})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]


def test_sampling_is_seeded_and_validates():
    state, vocab = train(TrainConfig(steps=200, **SMALL), TEXT, progress=False)
    a = sample(state.params, vocab, "the ", 30, 0.5, seed=1)
    assert a == sample(state.params, vocab, "the ", 30, 0.5, seed=1)
    assert len(a) == 30 and set(a) <= set(TEXT)
    assert sample(state.params, vocab, "the ", 12, 0.05, seed=2) == "cat sat on t"
    with pytest.raises(ValueError, match="characters not in the vocabulary: 'Z'"):
        sample(state.params, vocab, "Zebra", 5)
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        sample(state.params, vocab, "the", 5, temperature=0)
    with pytest.raises(ValueError, match="prime must be a non-empty string"):
        sample(state.params, vocab, "", 5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(hidden=0), "hidden must be a positive integer; got 0"),
        (dict(steps=-5), "steps must be a positive integer; got -5"),
        (dict(lr=0.0), "lr must be a positive number; got 0.0"),
        (dict(clip=-1.0), "clip must be >= 0"),
        (dict(optimizer="lbfgs"), "optimizer must be one of"),
        (dict(dtype="float16"), "dtype must be float32 or float64"),
    ],
)
def test_config_rejects_nonsense(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_training_rejects_text_shorter_than_a_chunk():
    with pytest.raises(ValueError, match="shorter than one training chunk"):
        train(
            TrainConfig(steps=1, hidden=4, seq_len=50, batch=32),
            "abc" * 10,
            progress=False,
        )


def run_cli(module, *args, cwd):
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--text", "missing.txt"], "error: text file not found: missing.txt"),
        (["--text", "empty.txt"], "empty.txt is empty"),
        (["--text", "latin1.txt"], "is not valid UTF-8"),
        (["--text", "short.txt"], "shorter than one training chunk"),
        (["--lr", "-0.1"], "error: lr must be a positive number"),
        (["--hidden", "0"], "error: hidden must be a positive integer; got 0"),
        (["--seq-len", "-3"], "error: seq_len must be a positive integer"),
        (["--resume", "--checkpoint", "nope.npz"], "error: checkpoint not found"),
    ],
)
def test_train_cli_bad_input_exits_nonzero_with_a_clear_message(
    tmp_path, args, message
):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin1.txt").write_bytes("café au lait".encode("latin-1"))
    (tmp_path / "short.txt").write_text("too short")
    r = run_cli("rnnlib.train", *args, "--quiet", cwd=tmp_path)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_train_then_sample(tmp_path):
    (tmp_path / "t.txt").write_text(TEXT)
    r = run_cli(
        "rnnlib.train",
        "--text",
        "t.txt",
        "--steps",
        "60",
        "--hidden",
        "16",
        "--seq-len",
        "8",
        "--batch",
        "4",
        "--eval-every",
        "30",
        "--sample-every",
        "60",
        "--checkpoint",
        "m.npz",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "chars/s" in r.stderr  # progress bar
    assert "step 30: validation" in r.stdout and "bits/char" in r.stdout
    assert "final validation loss" in r.stdout
    s = run_cli(
        "rnnlib.sample",
        "--checkpoint",
        "m.npz",
        "--prime",
        "the ",
        "--length",
        "20",
        cwd=tmp_path,
    )
    assert s.returncode == 0, s.stderr
    assert s.stdout.startswith("the ") and len(s.stdout.strip()) == 24
    bad = run_cli(
        "rnnlib.sample", "--checkpoint", "m.npz", "--prime", "QQ", cwd=tmp_path
    )
    assert bad.returncode == 2 and "characters not in the vocabulary: 'Q'" in bad.stderr


def test_help_lists_the_options():
    r = subprocess.run(
        [sys.executable, "-m", "rnnlib.train", "--help"], capture_output=True, text=True
    )
    assert r.returncode == 0 and "--optimizer" in r.stdout and "--clip" in r.stdout


# ------------------------------------------------------- independent references

REL = 1e-10  # float64 agreement with the independent references


def reference_mean_loss(arrays, x, y, h0):
    """Mean cross-entropy per character of a (T, B) chunk, written from the book's
    equations (10.8)-(10.11) with autograd.numpy, independent of rnnlib."""
    import autograd.numpy as anp

    U, W, V, b, c = arrays
    h, total = h0, 0.0
    for t in range(x.shape[0]):
        h = anp.tanh(b + h @ W.T + U.T[x[t]])            # one-hot x: a column of U
        o = c + h @ V.T
        m = anp.max(o, axis=1, keepdims=True)
        logp = o - m - anp.log(anp.sum(anp.exp(o - m), axis=1, keepdims=True))
        total = total - anp.sum(logp[anp.arange(x.shape[1]), y[t]])
    return total / x.size, h


def small_state(H=5, n=4, B=3, seed=3, optimizer="sgd"):
    from rnnlib import init_params
    from rnnlib.optim import make_optimizer
    from rnnlib.train import TrainState

    p = init_params(n, H, n, seed=seed, scale=0.8)
    p = p.replace(b=np.linspace(-0.2, 0.3, H), c=np.linspace(0.1, -0.1, n))
    h0 = np.random.default_rng(seed).normal(size=(B, H)) * 0.5
    return TrainState(p, make_optimizer(optimizer, 0.1).init(p), h0, step=7)


@pytest.mark.parametrize("clip", [0.0, 0.3, 0.7, 3.0])
def test_train_step_is_one_sgd_step_on_the_mean_loss(clip):
    """Against autograd: θ' = θ - lr·g·min(1, clip/‖g‖), g = ∇ mean loss."""
    from autograd import grad

    from rnnlib.train import train_step

    state = small_state()
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 4, (6, 3)), rng.integers(0, 4, (6, 3))
    arrays = [a.copy() for a in state.params.arrays().values()]
    before = {n: a.copy() for n, a in state.params.arrays().items()}
    loss, h_last = reference_mean_loss(arrays, x, y, state.h)
    g = grad(lambda a: reference_mean_loss(a, x, y, state.h)[0])(arrays)
    norm = np.sqrt(sum(np.sum(a * a) for a in g))
    factor = min(1.0, clip / norm) if clip > 0 else 1.0
    cfg = TrainConfig(hidden=5, seq_len=6, batch=3, optimizer="sgd", lr=0.1,
                      clip=clip, dtype="float64")
    new, m = train_step(state, (x, y), cfg)
    assert m.loss == pytest.approx(loss, rel=REL)
    assert m.grad_norm == pytest.approx(norm, rel=REL)
    for (name, a), ga in zip(before.items(), g, strict=True):
        np.testing.assert_allclose(getattr(new.params, name), a - 0.1 * factor * ga,
                                   rtol=REL, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(new.h, h_last, rtol=REL)
    assert new.step == 8 and new.history is state.history
    assert state.step == 7                                   # the input is untouched
    for name, a in before.items():
        np.testing.assert_array_equal(getattr(state.params, name), a)
    if clip == 0.7:
        assert norm > 0.7 > norm**2  # clipped, though ‖g‖² is below the threshold


def test_train_step_passes_adam_state_through():
    from rnnlib.train import train_step

    state = small_state(optimizer="adam")
    x = np.zeros((2, 3), np.int64)
    cfg = TrainConfig(hidden=5, seq_len=2, batch=3, lr=0.1, dtype="float64")
    new, _ = train_step(state, (x, x), cfg)
    assert int(new.opt_state["step"]) == 1 and int(state.opt_state["step"]) == 0
    new2, _ = train_step(new, (x, x), cfg)
    assert int(new2.opt_state["step"]) == 2


def reference_stream_losses(p, ids):
    """Summed loss of one long stream, read in a single forward pass (numpy)."""
    h, total = np.zeros(p.n_hidden), 0.0
    for t in range(len(ids) - 1):
        h = np.tanh(p.b + p.W @ h + p.U[:, ids[t]])          # (10.8)-(10.9)
        o = p.c + p.V @ h                                    # (10.10)
        total += np.log(np.sum(np.exp(o - o.max()))) + o.max() - o[ids[t + 1]]
    return total


@pytest.mark.parametrize("T, B, n", [(5, 1, 26), (4, 2, 2 * 13), (3, 3, 31)])
def test_evaluate_carries_the_state_across_chunks(T, B, n):
    """evaluate() == one long forward pass per stream over the chunks it scores."""
    from rnnlib import init_params

    p = init_params(6, 8, 6, seed=5, scale=1.0)
    ids = np.random.default_rng(2).integers(0, 6, n)
    L = n // B
    k = (L - 1) // T                                         # chunks per stream
    scored = [ids[s * L: s * L + k * T + 1] for s in range(B)]
    expected = sum(reference_stream_losses(p, s) for s in scored) / (k * T * B)
    assert k >= 3
    assert evaluate(p, ids, T=T, B=B) == pytest.approx(expected, rel=REL)


def test_evaluate_rejects_fewer_than_two_ids():
    from rnnlib import init_params

    with pytest.raises(ValueError, match="at least 2 ids; got 1"):
        evaluate(init_params(3, 2, 3), np.array([1]))


def test_train_is_train_step_over_chunks_with_state_reset_per_pass():
    """The loop: chunk k = step mod (chunks per pass), h zeroed when a pass starts."""
    from rnnlib.data import Vocab, chunk, n_chunks, split, streams
    from rnnlib.train import train_step

    text = "the cat sat on the mat. " * 3
    cfg = TrainConfig(steps=7, **{**SMALL, "batch": 2})
    state, vocab = train(cfg, text, progress=False)
    ids, _ = split(Vocab.from_text(text).encode(text), cfg.val_fraction)
    count, s = n_chunks(ids, cfg.seq_len, cfg.batch), streams(ids, cfg.batch)
    assert count == 3                                  # 7 steps: 3 passes begin
    from rnnlib import init_params
    from rnnlib.optim import make_optimizer
    from rnnlib.train import TrainState

    p = init_params(len(vocab), 16, len(vocab), seed=0, dtype=np.float64)
    ref = TrainState(p, make_optimizer("adam", cfg.lr).init(p), np.zeros((2, 16)))
    losses = []
    for step in range(7):
        if step % count == 0:
            ref = TrainState(ref.params, ref.opt_state, np.zeros((2, 16)), ref.step)
        ref, m = train_step(ref, chunk(s, step % count, cfg.seq_len), cfg)
        losses.append(m.loss)
    assert state.history["train_loss"] == losses
    assert state.history["step"] == list(range(1, 8))
    for name, a in ref.params.arrays().items():
        np.testing.assert_array_equal(getattr(state.params, name), a)


def test_log_receives_validation_samples_and_summary(capsys):
    messages = []
    cfg = TrainConfig(steps=10, **{**SMALL, "eval_every": 5, "sample_every": 10})
    state, _ = train(cfg, TEXT, progress=False, log=messages.append)
    assert [m.split(":")[0] for m in messages[:3]] == [
        "step 5", "step 10", "--- sample at step 10 (temperature 0.8)"]
    assert messages[3].startswith("trained 320 characters in ")
    assert state.history["val_step"] == [5, 10]
    assert capsys.readouterr().out == ""                 # nothing else printed
    train(cfg, TEXT, progress=False)                     # no log, no progress: quiet
    assert capsys.readouterr().out == ""


def test_train_refuses_what_cannot_work():
    from rnnlib.train import TrainState

    cfg = TrainConfig(steps=5, **SMALL)
    state, vocab = train(cfg, TEXT, progress=False)
    with pytest.raises(ValueError, match="already at step 5 and steps is 5"):
        train(cfg, TEXT, state, vocab, progress=False)
    more = TrainConfig(steps=9, **SMALL)
    for bad, message in [
        (TrainState(state.params, state.opt_state, np.zeros((4, 15)), 5),
         r"state.h must be a float64 array of shape \(batch, hidden\) = \(4, 16\)"),
        (TrainState(state.params, {}, state.h, 5), "it is the state of sgd"),
        (TrainState(state.params, state.opt_state, state.h, -1), "step must be"),
    ]:
        with pytest.raises(ValueError, match=message):
            train(more, TEXT, bad, vocab, progress=False)
    with pytest.raises(ValueError, match="hidden=16, dtype=float64; the config asks "
                       "for hidden=8"):
        train(TrainConfig(steps=9, **{**SMALL, "hidden": 8}), TEXT, state, vocab,
              progress=False)
    with pytest.raises(ValueError, match="vocabulary has only 1 character"):
        train(cfg, "z" * 500, progress=False)
    with pytest.raises(ValueError, match="val_fraction=0.001 held out"):
        train(TrainConfig(steps=1, **{**SMALL, "val_fraction": 0.001}), TEXT,
              progress=False)


def test_train_checks_the_checkpoint_path_before_training(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError, match="is not a directory"):
        train(TrainConfig(steps=1, **SMALL), TEXT, progress=False,
              checkpoint=tmp_path / "f" / "ck.npz")
    with pytest.raises(IsADirectoryError):
        train(TrainConfig(steps=1, **SMALL), TEXT, progress=False, checkpoint=tmp_path)


@pytest.mark.parametrize("eval_every, sample_every, val_steps, sample_steps",
                         [(4, 4, [4, 8, 10], [4, 8, 10]), (0, 0, [10], []),
                          (20, 6, [10], [6, 10])])
def test_validation_and_samples_also_at_the_last_step(eval_every, sample_every,
                                                      val_steps, sample_steps):
    messages = []
    cfg = TrainConfig(steps=10, **{**SMALL, "eval_every": eval_every,
                                   "sample_every": sample_every})
    state, _ = train(cfg, TEXT, progress=False, log=messages.append)
    assert state.history["val_step"] == val_steps
    assert len(state.history["val_loss"]) == len(val_steps)
    assert [int(m.split()[4]) for m in messages if m.startswith("--- sample")] == \
        sample_steps
