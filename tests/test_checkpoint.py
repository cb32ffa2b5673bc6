"""Checkpoints: round trip, damaged and crafted files, file permissions."""

import dataclasses
import json
import os
import stat

import numpy as np
import pytest

from rnnlib.checkpoint import (
    CheckpointError,
    check_writable,
    load_checkpoint,
    save_checkpoint,
)
from rnnlib.data import text_fingerprint
from rnnlib.train import TrainConfig, train

TEXT = "the cat sat on the mat. " * 10
CFG = TrainConfig(steps=2, hidden=4, seq_len=4, batch=2, eval_every=0,
                  sample_every=0, dtype="float64")
FLIP_STRIDE = 37  # bytes between flipped positions (all of them: 20x slower)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "good.npz"
    train(CFG, TEXT, progress=False, checkpoint=path)
    return path


def members(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def rewrite(src, dst, drop=(), meta=None, **arrays):
    """Copy checkpoint ``src`` to ``dst`` with members dropped or replaced."""
    data = members(src)
    m = json.loads(str(data["meta"]))
    if meta is not None:
        m = meta(m)
    data["meta"] = np.array(json.dumps(m))
    data.update(arrays)
    for k in drop:
        del data[k]
    np.savez(dst, **data)
    return dst


def test_round_trip_keeps_fingerprint_and_state(good):
    ck = load_checkpoint(good)
    assert ck.step == 2 and ck.text_sha256 == text_fingerprint(TEXT)
    assert ck.h.shape == (2, 4) and ck.params.n_hidden == 4
    assert set(ck.opt_state) == {"step"} | {f"{k}.{n}" for k in "mv" for n in "UWVbc"}
    assert ck.config["hidden"] == 4 and len(ck.history["train_loss"]) == 2


def test_text_fingerprint_is_sha256_of_utf8():
    import hashlib

    assert text_fingerprint("é") == hashlib.sha256(b"\xc3\xa9").hexdigest()
    assert text_fingerprint("ab") != text_fingerprint("ba")  # same characters


def test_every_truncation_is_refused(good, tmp_path):
    raw = good.read_bytes()
    bad = tmp_path / "t.npz"
    for n in range(0, len(raw), 41):
        bad.write_bytes(raw[:n])
        with pytest.raises(CheckpointError):
            load_checkpoint(bad)


def test_bit_flips_are_refused_or_harmless(good, tmp_path):
    """A flipped bit either raises CheckpointError or hits bytes that do not matter
    (zip timestamps, padding): then the loaded content equals the original."""
    raw, ref = good.read_bytes(), load_checkpoint(good)
    bad = tmp_path / "f.npz"
    refused = 0
    for i in range(0, len(raw), FLIP_STRIDE):
        b = bytearray(raw)
        b[i] ^= 1 << (i % 8)
        bad.write_bytes(bytes(b))
        try:
            ck = load_checkpoint(bad)
        except CheckpointError:
            refused += 1
            continue
        assert ck.step == ref.step and ck.vocab == ref.vocab, i
        for n, a in ref.params.arrays().items():
            np.testing.assert_array_equal(getattr(ck.params, n), a, err_msg=str(i))
        np.testing.assert_array_equal(ck.h, ref.h)
    assert refused > len(raw) // FLIP_STRIDE // 2  # the content bytes are covered


@pytest.mark.parametrize(
    "edit, message",
    [
        (dict(drop=["param.W"]), "lacks the array"),
        (dict(drop=["h"]), r"lacks the array\(s\) h"),
        (dict(drop=["meta"]), "has no 'meta' member"),
        (dict(meta=lambda m: [m]), "'meta' must be a JSON object; got list"),
        (dict(meta=lambda m: {k: v for k, v in m.items() if k != "vocab"}),
         "'vocab' must be a non-empty string"),
        (dict(meta=lambda m: {**m, "vocab": "aab"}), "distinct characters"),
        (dict(meta=lambda m: {**m, "step": "20"}), "'step' must be an integer"),
        (dict(meta=lambda m: {**m, "step": True}), "'step' must be an integer"),
        (dict(meta=lambda m: {**m, "step": -1}), "'step' must be an integer >= 0"),
        (dict(meta=lambda m: {**m, "format": "other"}), "has format 'other'"),
        (dict(meta=lambda m: {**m, "config": [1]}), "'config' must be a JSON object"),
        (dict(meta=lambda m: {**m, "history": {"step": "x"}}), "a list of numbers"),
        (dict(meta=lambda m: {**m, "text_sha256": "zz"}), "64 hex digits"),
        (dict(meta=lambda m: {**m, "vocab": m["vocab"][:-1]}),
         "but the vocabulary has"),
        (dict(**{"param.W": np.zeros((5, 5))}), "inconsistent parameters"),
        (dict(**{"param.U": np.zeros((4, 9), np.int64)}), "inconsistent parameters"),
        (dict(**{"param.b": np.full(4, np.nan)}), "parameter b holds NaN"),
        (dict(h=np.zeros((2, 5))), "hidden state h must be"),
        (dict(h=np.zeros((2, 4), np.float32)), "hidden state h must be"),
        (dict(meta=lambda m: {**m, "config": {**m["config"], "hidden": 6}}),
         "config says hidden=6"),
        (dict(meta=lambda m: {**m, "config": {**m["config"], "batch": 3}}),
         "config says batch=3"),
        (dict(meta=lambda m: {**m, "config": {**m["config"], "dtype": "float32"}}),
         "config says dtype"),
        (dict(**{"opt.m.U": np.full((4, 9), np.inf)}), "optimizer state 'm.U'"),
        (dict(meta=np.zeros(3)), "'meta' must be a string"),
    ],
)
def test_crafted_checkpoints_are_refused(good, tmp_path, edit, message):
    edit = dict(edit)
    if isinstance(edit.get("meta"), np.ndarray):  # replace the member itself
        data = members(good)
        data["meta"] = edit["meta"]
        np.savez(tmp_path / "x.npz", **data)
    else:
        rewrite(good, tmp_path / "x.npz", **edit)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(tmp_path / "x.npz")


def test_crafted_consistent_h6_checkpoint_is_read_with_its_own_shape(good, tmp_path):
    """A self-consistent H=6 file loads; train() then refuses it for hidden=4."""
    from rnnlib import init_params
    from rnnlib.train import TrainState

    ck = load_checkpoint(good)
    p = init_params(len(ck.vocab), 6, len(ck.vocab), dtype=np.float64)
    with pytest.raises(ValueError, match="parameters have hidden=6"):
        train(dataclasses.replace(CFG, steps=5), TEXT,
              TrainState(p, {}, np.zeros((2, 6))), ck.vocab, progress=False)


def test_non_checkpoint_files_are_refused(tmp_path):
    (tmp_path / "a.npy").write_bytes(b"")
    np.save(tmp_path / "arr.npy", np.zeros(3))
    (tmp_path / "text.npz").write_text("hello")
    for name in ("a.npy", "arr.npy", "text.npz"):
        with pytest.raises(CheckpointError):
            load_checkpoint(tmp_path / name)
    with pytest.raises(CheckpointError, match="is not a file"):
        load_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.npz")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600),
                                         (0o002, 0o664)])
def test_new_checkpoint_mode_follows_umask(good, tmp_path, umask, mode):
    ck = load_checkpoint(good)
    old = os.umask(umask)
    try:
        path = save_checkpoint(tmp_path / "new.npz", ck.params, ck.vocab, 1,
                               ck.opt_state, ck.h, {})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_replaced_checkpoint_keeps_its_mode(good, tmp_path):
    ck = load_checkpoint(good)
    path = tmp_path / "shared.npz"
    save_checkpoint(path, ck.params, ck.vocab, 1, ck.opt_state, ck.h, {})
    os.chmod(path, 0o640)
    save_checkpoint(path, ck.params, ck.vocab, 2, ck.opt_state, ck.h, {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert load_checkpoint(path).step == 2
    assert [p.name for p in tmp_path.iterdir()] == ["shared.npz"]


def test_check_writable_leaves_nothing_behind(tmp_path):
    check_writable(tmp_path / "sub" / "ck.npz")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == []
    with pytest.raises(IsADirectoryError):
        check_writable(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError):
        check_writable(tmp_path / "file" / "ck.npz")
