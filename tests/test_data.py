import numpy as np
import pytest

from rnnlib.data import Vocab, chunk, chunks, load_text, n_chunks, split, streams


def test_vocab_round_trip_and_sorted_ids():
    text = "hello, wörld — 🙂"
    v = Vocab.from_text(text)
    assert list(v.chars) == sorted(set(text))
    assert v.decode(v.encode(text)) == text
    assert v.encode("lo").tolist() == [v.chars.index("l"), v.chars.index("o")]


def test_vocab_rejects_unknown_characters_by_name():
    v = Vocab.from_text("abc")
    with pytest.raises(ValueError, match=r"characters not in the vocabulary: 'x', 'z'"):
        v.encode("axbz")
    with pytest.raises(ValueError, match="text must not be empty"):
        Vocab.from_text("")
    with pytest.raises(ValueError, match=r"ids must hold ids in \[0, 3\)"):
        v.decode([5])


def test_default_corpus_ships_with_python():
    text = load_text()
    assert len(text) > 100_000 and "assert" in text


def test_load_text_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        load_text(empty)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café".encode("latin-1"))
    with pytest.raises(ValueError, match=r"not valid UTF-8: byte 0xe9 at offset 3"):
        load_text(bad)
    with pytest.raises(FileNotFoundError, match="text file not found"):
        load_text(tmp_path / "missing.txt")


def test_split_is_deterministic_and_contiguous():
    ids = np.arange(100)
    train, val = split(ids, 0.1)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\); got 1.5"):
        split(ids, 1.5)


def test_chunks_are_time_major_and_continue_each_stream():
    ids = np.arange(2 * 21)  # B = 2 streams of 21 ids: 0..20, 21..41
    T, B = 5, 2
    got = list(chunks(ids, T, B))
    assert len(got) == n_chunks(ids, T, B) == 4
    for x, y in got:
        assert x.shape == y.shape == (T, B)
        np.testing.assert_array_equal(y[:-1], x[1:])  # y is x shifted by one
    # stream s continues across chunks: chunk k+1 starts where chunk k's targets end
    for (_, y0), (x1, _) in zip(got, got[1:], strict=False):
        np.testing.assert_array_equal(x1[0], y0[-1])
    np.testing.assert_array_equal(got[0][0][:, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(got[0][0][:, 1], [21, 22, 23, 24, 25])


def test_chunk_and_streams_reject_too_short_text():
    with pytest.raises(
        ValueError, match="shorter than one training chunk: B=4 streams"
    ):
        n_chunks(np.arange(10), 5, 4)
    with pytest.raises(ValueError, match="sequence length T must be >= 1; got 0"):
        n_chunks(np.arange(10), 0, 1)
    with pytest.raises(ValueError, match="too short for 8 streams"):
        streams(np.arange(10), 8)
    s = streams(np.arange(12), 2)
    x, y = chunk(s, 1, 2)
    assert x.tolist() == [[2, 8], [3, 9]] and y.tolist() == [[3, 9], [4, 10]]


def test_load_text_names_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory; --text needs a text"):
        load_text(tmp_path)


def test_decode_checks_ids():
    v = Vocab.from_text("abc")
    assert v.decode(np.array([2, 0, 1])) == "cab" and v.decode(np.array([], int)) == ""
    with pytest.raises(ValueError, match=r"ids must hold ids in \[0, 3\); got values "
                       r"in \[-1, 0\]"):
        v.decode([-1, 0])
    with pytest.raises(TypeError, match="integer token ids; got dtype float64"):
        v.decode(np.array([0.0]))
