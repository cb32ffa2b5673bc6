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
