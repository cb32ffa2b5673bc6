"""The command-line programs under bad input: each case ends with ``error: …`` on
stderr, exit status 2, no traceback, and no new, partial or changed checkpoint."""

import dataclasses
import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from rnnlib.train import TrainConfig, train

TEXT = "the cat sat on the mat. " * 40
SAME_CHARS = "the mat sat on the cat. " * 40  # other text, same characters
SIZES = ["--hidden", "8", "--seq-len", "8", "--batch", "4", "--eval-every", "0",
         "--sample-every", "0", "--dtype", "float64"]
CFG = TrainConfig(hidden=8, seq_len=8, batch=4, eval_every=0, sample_every=0,
                  dtype="float64", steps=20)


@pytest.fixture(scope="module")
def step20(tmp_path_factory):
    """A good checkpoint at step 20 trained (in-process) on TEXT with SIZES."""
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    train(CFG, TEXT, progress=False, checkpoint=path)
    return path.read_bytes()


@pytest.fixture
def work(tmp_path, step20):
    (tmp_path / "t.txt").write_text(TEXT)
    (tmp_path / "ck.npz").write_bytes(step20)
    return tmp_path


def run(module, *args, cwd, umask=None):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120,
                          **({} if umask is None else {"umask": umask}))


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def assert_clean_failure(r, message, folder, before):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("error: ") and message in r.stderr, r.stderr
    assert snapshot(folder) == before   # nothing written, nothing changed


def edit(path, drop=(), meta=None, **arrays):
    """Rewrite checkpoint ``path`` with members dropped/replaced or meta edited."""
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    m = json.loads(str(data["meta"]))
    data["meta"] = np.array(json.dumps(meta(m) if meta else m))
    data.update(arrays)
    for k in drop:
        del data[k]
    with open(path, "wb") as f:
        np.savez(f, **data)


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_bit(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0x10         # inside an array's data: CRC mismatch
    path.write_bytes(bytes(raw))


def h6(path):
    """Parameters of a self-consistent H=6 model, under a config saying hidden=8."""
    with np.load(path) as z:
        n = z["param.U"].shape[1]
    rng = np.random.default_rng(0)
    edit(path, **{"param.U": rng.normal(size=(6, n)), "param.W": np.eye(6),
                  "param.V": rng.normal(size=(n, 6)), "param.b": np.zeros(6),
                  "h": np.zeros((4, 6))})


def h6_config_too(path):
    h6(path)
    edit(path, meta=lambda m: {**m, "config": {**m["config"], "hidden": 6}})


def sgd_checkpoint(path):
    path.unlink()
    train(dataclasses.replace(CFG, optimizer="sgd", lr=0.1), TEXT, progress=False,
          checkpoint=path)


def sgd_state_adam_config(path):
    edit(path, drop=[k for k in np.load(path).files if k.startswith("opt.")])


DAMAGE = {
    "truncated": (truncate, "damaged or not an rnnlib checkpoint (BadZipFile"),
    "bit-flipped": (flip_bit, "damaged or not an rnnlib checkpoint"),
    "missing param.W": (lambda p: edit(p, drop=["param.W"]), "lacks the array"),
    "missing vocab": (lambda p: edit(p, meta=lambda m: {**m, "vocab": None}),
                      "'vocab' must be a non-empty string"),
    "meta is a list": (lambda p: edit(p, meta=lambda m: [m]),
                       "'meta' must be a JSON object; got list"),
    "step is a string": (lambda p: edit(p, meta=lambda m: {**m, "step": "20"}),
                         "'step' must be an integer >= 0; got '20'"),
    "H=6 parameters": (h6, "config says hidden=8 but the arrays have hidden=6"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_train_resume_refuses_a_damaged_checkpoint(work, damage):
    spoil, message = DAMAGE[damage]
    spoil(work / "ck.npz")
    before = snapshot(work)
    r = run("rnnlib.train", "--text", "t.txt", *SIZES, "--steps", "25", "--resume",
            "--checkpoint", "ck.npz", "--quiet", cwd=work)
    assert_clean_failure(r, message, work, before)


@pytest.mark.parametrize("damage", DAMAGE)
def test_sample_refuses_a_damaged_checkpoint(work, damage):
    spoil, message = DAMAGE[damage]
    spoil(work / "ck.npz")
    before = snapshot(work)
    r = run("rnnlib.sample", "--checkpoint", "ck.npz", "--length", "5", cwd=work)
    assert_clean_failure(r, message, work, before)


@pytest.mark.parametrize(
    "spoil, args, message",
    [
        (None, ["--optimizer", "sgd", "--lr", "0.1"],
         "--optimizer adam (this run asks for sgd)"),
        (sgd_checkpoint, [], "--optimizer sgd (this run asks for adam)"),
        (h6_config_too, [], "--hidden 6 (this run asks for 8)"),
        (sgd_state_adam_config, [], "does not fit Adam: missing ['m.U'"),
        (None, ["--steps", "5"], "already at step 20 and steps is 5"),
        (None, ["--steps", "20"], "already at step 20 and steps is 20"),
        (None, ["--text", "same_chars.txt"], "was trained on a different text"),
        (None, ["--text", "other_chars.txt", "--allow-different-text"],
         "characters not in the vocabulary: 'Z'"),
        (lambda p: edit(p, meta=lambda m: {**m, "text_sha256": None}), [],
         "records no fingerprint of its training text"),
    ],
)
def test_train_resume_refuses_what_does_not_fit(work, spoil, args, message):
    (work / "same_chars.txt").write_text(SAME_CHARS)
    (work / "other_chars.txt").write_text(TEXT + "Z")
    if spoil:
        spoil(work / "ck.npz")
    before = snapshot(work)
    r = run("rnnlib.train", "--text", "t.txt", *SIZES, "--steps", "25", "--resume",
            "--checkpoint", "ck.npz", "--quiet", *args, cwd=work)
    assert_clean_failure(r, message, work, before)


def test_resume_on_another_text_when_asked(work):
    (work / "same_chars.txt").write_text(SAME_CHARS)
    r = run("rnnlib.train", "--text", "same_chars.txt", *SIZES, "--steps", "22",
            "--resume", "--allow-different-text", "--quiet", "--checkpoint", "ck.npz",
            cwd=work)
    assert r.returncode == 0, r.stderr
    from rnnlib.checkpoint import load_checkpoint
    from rnnlib.data import text_fingerprint

    ck = load_checkpoint(work / "ck.npz")
    assert ck.step == 22 and ck.text_sha256 == text_fingerprint(SAME_CHARS)


@pytest.mark.parametrize(
    "files, args, message",
    [
        ({"one.txt": "a" * 2000}, ["--text", "one.txt"],
         "vocabulary has only 1 character ('a')"),
        ({"c.txt": "x"}, ["--text", "c.txt"],
         "text of 1 character is shorter than one training chunk"),
        ({}, ["--text", "."], ". is a directory; --text needs a text file"),
        # 5000 * 0.0003 rounds to 1 held-out character (in floating point
        # 1.4999...), 5001 * 0.0003 to 2
        ({}, ["--val-fraction", "0.0003"], "need a text of at least 5,001 characters"),
        ({}, ["--checkpoint", "."], "checkpoint path . is a directory"),
        ({}, ["--checkpoint", "t.txt/ck.npz"], "t.txt is not a directory"),
        ({}, ["--seed", "-1"], "seed must be an integer >= 0; got -1"),
        ({}, ["--checkpoint-every", "0"], "checkpoint_every must be a positive"),
        ({}, ["--clip", "nan"], "clip must be >= 0"),
        ({}, ["--temperature", "inf"], "temperature must be positive"),
        ({}, ["--hidden", "1000000000000"], "not enough memory"),
    ],
)
def test_train_refuses_bad_input_before_training(tmp_path, files, args, message):
    (tmp_path / "t.txt").write_text(TEXT)
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    before = snapshot(tmp_path)
    r = run("rnnlib.train", "--text", "t.txt", *SIZES, "--steps", "3", "--quiet",
            "--checkpoint", "ck.npz", *args, cwd=tmp_path)
    assert_clean_failure(r, message, tmp_path, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", "-3"], "--seed must be >= 0; got -3"),
        (["--length", "-1"], "length must be an int >= 0"),
        (["--temperature", "0"], "temperature must be a positive number"),
        (["--prime", ""], "prime must be a non-empty string"),
        (["--checkpoint", "."], "is not a file"),
        (["--checkpoint", "t.txt"], "damaged or not an rnnlib checkpoint"),
    ],
)
def test_sample_refuses_bad_options(work, args, message):
    before = snapshot(work)
    r = run("rnnlib.sample", "--checkpoint", "ck.npz", *args, cwd=work)
    assert_clean_failure(r, message, work, before)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_cli_checkpoint_mode_follows_umask(tmp_path, umask, mode):
    (tmp_path / "t.txt").write_text(TEXT)
    r = run("rnnlib.train", "--text", "t.txt", *SIZES, "--steps", "2", "--quiet",
            "--checkpoint", "m.npz", cwd=tmp_path, umask=umask)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "t.txt"]
