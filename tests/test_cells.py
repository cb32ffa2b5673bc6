"""Training, evaluating, sampling and checkpointing every cell: ``--cell rnn|lstm|gru``.

The cells' own gradients are tested in test_bptt.py, test_lstm.py and test_gru.py;
here, that the training machinery uses each one correctly: the right parameters,
the state carried between chunks (the LSTM's cell state too), checkpoints that
record the cell and refuse another, and the command line.
"""

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from rnnlib import forward, gru, hidden, lstm, output, pre_activation, softmax
from rnnlib.cells import CELLS, cell_of, get_cell
from rnnlib.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnlib.data import Vocab
from rnnlib.sample import sample
from rnnlib.train import TrainConfig, evaluate, state_from_checkpoint, train, train_step

TEXT = "the cat sat on the mat. the dog sat on the log. " * 30
SMALL = dict(hidden=8, seq_len=8, batch=4, eval_every=0, sample_every=0,
             dtype="float64", steps=6)
MODULES = {"lstm": lstm, "gru": gru}


@pytest.fixture(scope="module", params=list(CELLS))
def trained(request, tmp_path_factory):
    cell = request.param
    path = tmp_path_factory.mktemp(cell) / "ck.npz"
    state, vocab = train(TrainConfig(cell=cell, **SMALL), TEXT, progress=False,
                         checkpoint=path)
    return cell, state, vocab, path


def test_each_cell_trains_its_own_parameters(trained):
    cell, state, vocab, _ = trained
    assert type(state.params) is CELLS[cell].params_type
    assert cell_of(state.params).name == cell
    assert state.step == SMALL["steps"]
    assert np.isfinite(state.history["train_loss"]).all()
    assert (state.s is not None) == (cell == "lstm")  # only the LSTM has a cell state
    for a in state.carry:
        assert a.shape == (SMALL["batch"], SMALL["hidden"]) and a.dtype == np.float64


def test_training_lowers_the_loss_of_every_cell():
    for cell in CELLS:
        cfg = TrainConfig(cell=cell, **{**SMALL, "steps": 60, "lr": 1e-2})
        state, _ = train(cfg, TEXT, progress=False)
        first, last = state.history["train_loss"][:5], state.history["train_loss"][-5:]
        assert np.mean(last) < 0.8 * np.mean(first), (cell, first, last)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_train_step_carries_the_last_states_of_the_chunk(name):
    """The carried state is the forward pass's last state, from the carried-in one."""
    vocab = Vocab.from_text(TEXT)
    cfg = TrainConfig(cell=name, **SMALL)
    state, _ = train(cfg, TEXT, vocab=vocab, progress=False)  # nonzero carry
    rng = np.random.default_rng(0)
    x = rng.integers(0, len(vocab), size=(8, 4))
    y = rng.integers(0, len(vocab), size=(8, 4))
    new, metrics = train_step(state, (x, y), cfg)
    f = MODULES[name].forward(state.params, x, *state.carry)  # per-equation path
    np.testing.assert_allclose(new.h, f.h[-1], rtol=1e-12)
    if name == "lstm":
        np.testing.assert_allclose(new.s, f.s[-1], rtol=1e-12)
    log_yhat = f.o - np.log(np.exp(f.o).sum(axis=-1, keepdims=True))
    want = -np.take_along_axis(log_yhat, y[..., None], axis=-1).mean()
    assert metrics.loss == pytest.approx(want, rel=1e-12)


def test_evaluate_agrees_with_the_other_path_of_each_cell(trained):
    """evaluate reads the RNN with its per-equation forward pass and the gated cells
    with their fast BPTT path; each is compared with the other path, on two chunks
    (so the carried state matters), from zero state."""
    cell, state, vocab, _ = trained
    ids = vocab.encode(TEXT[:81])  # B = 1 stream, two chunks of T = 40
    x, y = ids[:-1, None], ids[1:, None]
    if cell == "rnn":
        loss, _, _ = get_cell(cell).loss_and_grads(
            state.params, x, y, get_cell(cell).zero_carry(1, 8, np.float64))
    else:
        f = MODULES[cell].forward(state.params, x)  # per-equation, whole sequence
        log_yhat = f.o - np.log(np.exp(f.o).sum(axis=-1, keepdims=True))
        loss = -np.take_along_axis(log_yhat, y[..., None], axis=-1).sum()
    assert evaluate(state.params, ids, T=40, B=1) == pytest.approx(loss / 80, rel=1e-12)


def test_rnn_sampling_is_the_per_equation_loop():
    """rnnlib.sample against (10.8)-(10.11) written out step by step."""
    vocab = Vocab.from_text(TEXT)
    state, _ = train(TrainConfig(**SMALL), TEXT, vocab=vocab, progress=False)
    p = state.params
    got = sample(p, vocab, "the ", 30, 0.7, seed=3)
    rng = np.random.default_rng(3)
    h = forward(p, vocab.encode("the ")[:, None]).h[-1]
    want = []
    for _ in range(30):
        probs = softmax(output(p, h) / 0.7)[0].astype(np.float64)
        nxt = int(rng.choice(len(vocab), p=probs / probs.sum()))
        want.append(nxt)
        h = hidden(pre_activation(p, np.array([nxt]), h))
    assert got == vocab.decode(np.array(want))


def test_every_cell_samples_reproducibly(trained):
    cell, state, vocab, _ = trained
    a = sample(state.params, vocab, "the ", 40, 1.0, seed=5)
    assert a == sample(state.params, vocab, "the ", 40, 1.0, seed=5)
    assert len(a) == 40 and set(a) <= set(vocab.chars)


def test_checkpoint_round_trip_keeps_the_cell(trained):
    cell, state, vocab, path = trained
    ck = load_checkpoint(path)
    assert ck.cell == cell and ck.config["cell"] == cell
    assert type(ck.params) is type(state.params)
    for n, a in state.params.arrays().items():
        np.testing.assert_array_equal(getattr(ck.params, n), a)
    np.testing.assert_array_equal(ck.h, state.h)
    if cell == "lstm":
        np.testing.assert_array_equal(ck.s, state.s)
    else:
        assert ck.s is None
    resumed, _, _ = state_from_checkpoint(path)
    more, _ = train(TrainConfig(cell=cell, **{**SMALL, "steps": 8}), TEXT,
                    state=resumed, vocab=vocab, progress=False)
    assert more.step == 8


def test_a_checkpoint_refuses_another_cell(trained):
    cell, _, vocab, path = trained
    state, _, _ = state_from_checkpoint(path)
    other = next(c for c in CELLS if c != cell)
    with pytest.raises(ValueError, match=f"those of a {cell} cell.*cell='{other}'"):
        train(TrainConfig(cell=other, **{**SMALL, "steps": 8}), TEXT, state=state,
              vocab=vocab, progress=False)


def rewrite_meta(src, dst, change):
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    with np.load(src) as data:
        meta = json.loads(str(data["meta"]))
    change(meta)
    arrays = {n[:-4]: np.load(src)[n[:-4]] for n in members if n != "meta.npy"}
    np.savez(dst, **arrays, meta=np.array(json.dumps(meta)))


def test_checkpoints_from_before_the_cells_load_as_rnn(tmp_path):
    path = tmp_path / "ck.npz"
    train(TrainConfig(**SMALL), TEXT, progress=False, checkpoint=path)
    old = tmp_path / "old.npz"
    rewrite_meta(path, old, lambda m: (m.pop("cell"), m["config"].pop("cell")))
    ck = load_checkpoint(old)
    assert ck.cell == "rnn" and type(ck.params) is CELLS["rnn"].params_type


def test_a_checkpoint_whose_arrays_are_another_cells_is_refused(trained, tmp_path):
    cell, _, _, path = trained
    other = next(c for c in CELLS if c != cell)
    bad = tmp_path / "bad.npz"
    rewrite_meta(path, bad, lambda m: m.update(cell=other))
    with pytest.raises(CheckpointError, match=f"{other} cell"):
        load_checkpoint(bad)


def test_save_checkpoint_wants_the_lstm_cell_state_exactly_for_the_lstm(trained,
                                                                        tmp_path):
    cell, state, vocab, _ = trained
    wrong_s = None if cell == "lstm" else state.h
    with pytest.raises(ValueError, match="cell state"):
        save_checkpoint(tmp_path / "x.npz", state.params, vocab, 1, state.opt_state,
                        state.h, {}, s=wrong_s)


def test_unknown_cells_are_refused():
    with pytest.raises(ValueError, match="one of rnn, lstm, gru; got 'tanh'"):
        TrainConfig(cell="tanh")
    with pytest.raises(TypeError, match="parameters must be one of .*got dict"):
        cell_of({})


def test_cli_trains_and_resumes_a_gated_cell_and_refuses_a_switch(tmp_path):
    (tmp_path / "t.txt").write_text(TEXT)
    sizes = ["--text", "t.txt", "--hidden", "8", "--seq-len", "8", "--batch", "4",
             "--eval-every", "0", "--sample-every", "0", "--dtype", "float64"]

    def run(*args):
        return subprocess.run([sys.executable, "-m", "rnnlib.train", *sizes, *args],
                              capture_output=True, text=True, cwd=tmp_path)

    r = run("--cell", "lstm", "--steps", "4", "--quiet")
    assert r.returncode == 0, r.stderr
    assert load_checkpoint(tmp_path / "char_rnn.npz").cell == "lstm"
    r = run("--cell", "lstm", "--steps", "6", "--quiet", "--resume")
    assert r.returncode == 0, r.stderr
    r = run("--cell", "gru", "--steps", "8", "--quiet", "--resume")
    assert r.returncode == 2 and "--cell lstm (this run asks for gru)" in r.stderr
    r = run("--cell", "transformer", "--steps", "2")
    assert r.returncode == 2 and "invalid choice: 'transformer'" in r.stderr
