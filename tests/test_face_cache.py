"""The face cache that training reads: built once from the faces folder, reused, rebuilt when the
folder changes, never left half-written, read in batches (also by DataLoader workers, forked or
spawned), with the segmenter's masks written into it; memory stays flat while it is built."""
from __future__ import annotations

import json
import logging
import os
import shutil
import tracemalloc
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from faceswap.align import alignments as alignments_file
from faceswap.swap import face_cache
from faceswap.swap.data import CachedPairs, load_face_set, read_face_source, spread_sample
from faceswap.swap.face_cache import FaceReader, open_face_cache, set_masks
from faceswap.swap.train import paired
from test_swap_support import TINY_MODEL, faces_subset


@pytest.fixture(scope="module")
def small_faces(extracted_faces, tmp_path_factory):
    root = tmp_path_factory.mktemp("cache_faces")
    return {"a": faces_subset(extracted_faces["a"], root / "a", 24), "b": faces_subset(extracted_faces["b"], root / "b", 10)}


@pytest.fixture(scope="module")
def caches(small_faces, tmp_path_factory):
    folder = tmp_path_factory.mktemp("caches")
    return {side: open_face_cache(read_face_source(small_faces[side], 2), folder, side, 64, extract_masks=True)
            for side in "ab"}


def _open(folder, cache_folder, size=64, extract_masks=True):
    return open_face_cache(read_face_source(folder, 2), cache_folder, "a", size, extract_masks)


def test_the_cache_holds_the_decoded_faces_and_is_reused(small_faces, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="faceswap.swap"):
        cache = _open(small_faces["a"], tmp_path)
        again = _open(small_faces["a"], tmp_path)
    assert "Decoding the 24 faces" in caplog.text and "Reusing the face cache" in caplog.text
    assert again == cache and cache.path.stat().st_ino == again.path.stat().st_ino
    in_memory = load_face_set(small_faces["a"], 64, min_faces=2).faces.numpy()
    assert np.array_equal(np.load(cache.path, mmap_mode="r"), in_memory)  # a plain .npy
    assert np.array_equal(FaceReader(cache).read([5, 0, 23, 5]), in_memory[[5, 0, 23, 5]])
    info = json.loads(cache.info_path.read_text())
    assert info["count"] == 24 and info["size"] == 64 and info["masks"] == "extract"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.npy"]


def test_a_changed_folder_another_size_or_a_damaged_file_rebuild_it(small_faces, tmp_path, caplog):
    faces = Path(shutil.copytree(small_faces["a"], tmp_path / "faces"))
    cache = _open(faces, tmp_path / "cache")
    record = alignments_file.load(faces).faces()[3][1]
    mask_path = faces / record.mask_file
    cv2.imwrite(str(mask_path), np.zeros_like(cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)))
    os.utime(mask_path, ns=(mask_path.stat().st_atime_ns, mask_path.stat().st_mtime_ns + 10**9))
    with caplog.at_level(logging.INFO, logger="faceswap.swap"):
        rebuilt = _open(faces, tmp_path / "cache")
    assert "the faces folder changed" in caplog.text
    assert rebuilt.faces[3, 3].max() == 0 and cache.fingerprint != rebuilt.fingerprint
    assert _open(faces, tmp_path / "cache", size=32).faces.shape == (24, 5, 32, 32)
    with open(rebuilt.path, "r+b") as handle:
        handle.truncate(rebuilt.path.stat().st_size - 100)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="faceswap.swap"):
        assert _open(faces, tmp_path / "cache", size=32).faces.shape == (24, 5, 32, 32)
    assert "damaged" in caplog.text


def test_an_interrupted_build_leaves_nothing(small_faces, tmp_path, monkeypatch):
    def one_chunk_then_interrupt(source, size):
        yield np.zeros((4, 5, size, size), np.uint8)
        raise KeyboardInterrupt

    monkeypatch.setattr(face_cache, "decode_faces", one_chunk_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        _open(small_faces["a"], tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []  # no cache, no description, no temp file
    monkeypatch.undo()
    assert _open(small_faces["a"], tmp_path).count == 24


def test_a_full_disk_is_a_user_error(small_faces, tmp_path, monkeypatch):
    from faceswap.errors import UserError

    monkeypatch.setattr(face_cache.shutil, "disk_usage", lambda path: SimpleNamespace(free=10**6))
    with pytest.raises(UserError, match=r"needs 0\.0 GiB .* only 0\.0 GiB are free; free some space"):
        _open(small_faces["a"], tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_cached_pairs_are_the_in_memory_pairs(caches):
    rows_a, rows_b = [1, 2, 4, 8, 16, 23], [0, 3, 9]
    pairs = CachedPairs(FaceReader(caches["a"]), rows_a, FaceReader(caches["b"]), rows_b)
    in_memory = paired(torch.from_numpy(np.array(caches["a"].faces))[rows_a], torch.from_numpy(np.array(caches["b"].faces))[rows_b])
    assert len(pairs) == len(in_memory) == 6
    indices = [5, 0, 3, 3, 4]
    faces_a, faces_b = pairs.read_batch(indices)
    assert torch.equal(faces_a, in_memory.tensors[0][indices]) and torch.equal(faces_b, in_memory.tensors[1][indices])
    assert all(torch.equal(x, y) for x, y in zip(pairs[4], in_memory[4]))
    plain = next(iter(DataLoader(pairs, batch_size=6)))  # torch's own batching, through __getitems__
    assert torch.equal(plain[0], in_memory.tensors[0]) and torch.equal(plain[1], in_memory.tensors[1])
    assert spread_sample(list(range(10)), 4) == [0, 3, 6, 9] and spread_sample([1, 2], 4) == [1, 2]


def test_the_engine_reads_whole_batches():
    from faceswap.engine.data import EpochLoader
    from faceswap.engine.distributed import dist_info_from_env

    class Batches(torch.utils.data.Dataset):
        calls: list = []

        def __len__(self):
            return 10

        def __getitem__(self, index):
            raise AssertionError("read item by item")

        def read_batch(self, indices):
            self.calls.append(list(indices))
            return torch.tensor(indices)

    loader = EpochLoader(Batches(), 4, dist_info_from_env(), shuffle=False, seed=0, drop_last=False, num_workers=0,
                         pin_memory=False)
    assert [batch.tolist() for batch in loader.epoch(0)] == Batches.calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_read_the_same_batches(caches, context):
    pairs = CachedPairs(FaceReader(caches["a"]), range(24), FaceReader(caches["b"]), range(10))
    pairs.read_batch([0])  # the main process's descriptor must not leak its state into forked workers
    batches = [list(range(start, min(start + 5, 24))) for start in range(0, 24, 5)]

    def read_all(**options):
        loader = DataLoader(_Batched(pairs), batch_size=None, sampler=batches, **options)
        return [tuple(tensor.clone() for tensor in batch) for batch in loader]

    expected = read_all(num_workers=0)
    got = read_all(num_workers=2 if context == "fork" else 1, multiprocessing_context=context)
    assert all(torch.equal(x, y) for left, right in zip(expected, got) for x, y in zip(left, right)) and len(got) == 5


class _Batched(torch.utils.data.Dataset):  # module level: spawned workers unpickle it
    def __init__(self, pairs):
        self.pairs = pairs

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, indices):
        return self.pairs.read_batch(indices)


def _repeated_faces(faces: Path, target: Path, count: int) -> Path:
    """A faces folder whose alignments list the faces of ``faces`` again and again (crops symlinked)."""
    alignments = alignments_file.load(faces)
    frames = [frame for frame in alignments.frames if frame.faces]
    target.mkdir()
    for name in ("faces", "masks"):
        (target / name).symlink_to(faces / name, target_is_directory=True)
    alignments.frames = [replace(frames[i % len(frames)], index=i) for i in range(count)]
    alignments.save(alignments_file.alignments_path(target))
    return target


def test_building_holds_a_chunk_not_the_set(small_faces, tmp_path):
    peaks = {}
    for count in (150, 450):  # both hold two full chunks in a row: the same pattern at three times the size
        source = read_face_source(_repeated_faces(small_faces["a"], tmp_path / f"faces_{count}", count), 2)
        tracemalloc.start()
        cache = open_face_cache(source, tmp_path / "cache", f"x{count}", 128, extract_masks=True)
        peaks[count] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert cache.count == count
    faces_bytes = 450 * 5 * 128 * 128  # 35 MiB
    assert peaks[450] < 1.25 * peaks[150] + (1 << 20) and peaks[450] < 0.7 * faces_bytes, peaks


def _random_segmenter(folder: Path, seed: int) -> Path:
    from faceswap.align.template import Template
    from faceswap.registry import get
    from faceswap.segment.folder import save_weights, write_info

    torch.manual_seed(seed)
    model = get("segmenter", "tiramisu")()
    folder.mkdir(parents=True)
    save_weights(folder, model)
    write_info(folder, "tiramisu", model, Template(), steps=0, finished=True)
    return folder


def test_segmenter_masks_are_written_once_per_segmenter(small_faces, tmp_path, monkeypatch):
    from faceswap.swap import masks
    from faceswap.swap.masks import apply_segmenter, apply_segmenter_to_cache, segmenter_id

    first, second = _random_segmenter(tmp_path / "seg1", 1), _random_segmenter(tmp_path / "seg2", 2)
    cache = _open(small_faces["a"], tmp_path / "cache", extract_masks=False)
    extract_masks = np.array(cache.faces[:, 3])
    cache = apply_segmenter_to_cache(first, cache, "cpu")
    expected = load_face_set(small_faces["a"], 64, min_faces=2).faces
    apply_segmenter(first, expected, "cpu")
    assert cache.masks == segmenter_id(first) and np.array_equal(cache.faces, expected.numpy())
    assert not np.array_equal(cache.faces[:, 3], extract_masks)
    assert json.loads(cache.info_path.read_text())["masks"] == segmenter_id(first)
    assert _open(small_faces["a"], tmp_path / "cache", extract_masks=False) == cache  # kept for the next run

    calls = []
    real_write = masks._write_masks
    monkeypatch.setattr(masks, "_write_masks", lambda *args: calls.append(1) or real_write(*args))
    assert apply_segmenter_to_cache(first, cache, "cpu") == cache and not calls  # the same segmenter: nothing to do
    set_masks(cache, None)  # as a run killed while writing them leaves it
    assert apply_segmenter_to_cache(first, cache, "cpu").masks == segmenter_id(first) and calls
    other = apply_segmenter_to_cache(second, cache, "cpu")
    assert other.masks == segmenter_id(second) and not np.array_equal(other.faces[:, 3], expected[:, 3].numpy())
    restored = _open(small_faces["a"], tmp_path / "cache", extract_masks=True)  # --segmenter none: extract's again
    assert restored.masks == "extract" and np.array_equal(restored.faces[:, 3], extract_masks)


def test_training_reads_the_cache_and_resume_reuses_it(small_faces, tmp_path, caplog):
    from faceswap.swap import SwapTrainConfig, train_swap
    from faceswap.swap.masks import segmenter_id
    from faceswap.swap.train import _num_workers

    segmenter = _random_segmenter(tmp_path / "seg", 3)
    config = SwapTrainConfig(faces_a=str(small_faces["a"]), faces_b=str(small_faces["b"]), model_dir=str(tmp_path / "m"),
                             steps=1, batch_size=4, min_faces=10, threads=1, progress=False, segmenter=str(segmenter),
                             **TINY_MODEL)
    train_swap(config)
    cache_folder = tmp_path / "m" / face_cache.CACHE_DIR
    assert sorted(p.name for p in cache_folder.iterdir()) == ["a.json", "a.npy", "b.json", "b.npy"]
    info = json.loads((cache_folder / "a.json").read_text())
    assert info["size"] == 128 and info["masks"] == segmenter_id(tmp_path / "m" / "segmenter")
    with caplog.at_level(logging.INFO, logger="faceswap.swap"):
        train_swap(replace(config, resume=True, steps=2))
    assert caplog.text.count("Reusing the face cache") == 2 and "reusing the segmenter's" in caplog.text
    assert "Decoding" not in caplog.text
    assert _num_workers(replace(config, num_workers=-1, device="cpu")) == 0 and _num_workers(replace(config, num_workers=3)) == 3


def test_faces_on_the_device_give_the_cached_pairs_batches(caches, monkeypatch):
    """The on-device path (here the CPU device, through the same code a GPU runs) indexes the same
    faces as reading the cache file does, also when the faces are copied over in several blocks."""
    from faceswap.engine.data import EpochLoader
    from faceswap.engine.distributed import dist_info_from_env
    from faceswap.swap import device_faces

    monkeypatch.setattr(device_faces, "COPY_FACES", 5)  # 24 faces: five blocks, the last one short
    cpu = torch.device("cpu")
    rows_a, rows_b = [1, 2, 4, 8, 16, 23], [0, 3, 9]
    cached = CachedPairs(FaceReader(caches["a"]), rows_a, FaceReader(caches["b"]), rows_b)
    faces = [device_faces.faces_to_device(caches[side], cpu) for side in "ab"]
    assert torch.equal(faces[0], torch.from_numpy(np.array(caches["a"].faces)))
    on_device = device_faces.DevicePairs(faces[0], rows_a, faces[1], rows_b)
    assert len(on_device) == len(cached) == 6 and on_device.device == cpu
    for got, expected in zip(on_device.read_batch([5, 0, 3, 3, 4]), cached.read_batch([5, 0, 3, 3, 4])):
        assert torch.equal(got, expected)

    def epoch(data):
        loader = EpochLoader(data, 4, dist_info_from_env(), shuffle=True, seed=3, drop_last=False, num_workers=0,
                             pin_memory=False)
        return [batch for batch in loader.epoch(2, skip_batches=0)]

    for got, expected in zip(epoch(on_device), epoch(cached), strict=True):
        assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])


def test_faces_go_on_the_device_when_they_fit(caches):
    from faceswap.swap.device_faces import DEVICE_SHARE, DevicePairs, faces_fit_on_device, training_pairs

    gpu, cpu = torch.device("cuda"), torch.device("cpu")
    free = 80 << 30
    assert faces_fit_on_device("auto", gpu, int(DEVICE_SHARE * free), free_bytes=free)
    assert not faces_fit_on_device("auto", gpu, int(DEVICE_SHARE * free) + 1, free_bytes=free)
    assert not faces_fit_on_device("auto", cpu, 1, free_bytes=free)  # the cache file already is the CPU's memory
    assert faces_fit_on_device("on", cpu, 1 << 40, free_bytes=0) and not faces_fit_on_device("off", gpu, 1, free_bytes=free)
    readers, rows = (FaceReader(caches["a"]), FaceReader(caches["b"])), ([0, 1], [2])
    assert isinstance(training_pairs("on", cpu, (caches["a"], caches["b"]), readers, rows), DevicePairs)
    assert isinstance(training_pairs("auto", cpu, (caches["a"], caches["b"]), readers, rows), CachedPairs)


def test_training_on_device_faces_is_training_on_the_cache(small_faces, tmp_path, caplog):
    """Same seed, same steps: the weights come out the same whichever way the batches were gathered."""
    from safetensors.torch import load_file

    from faceswap.swap import SwapTrainConfig, train_swap

    settings = dict(faces_a=str(small_faces["a"]), faces_b=str(small_faces["b"]), steps=3, batch_size=4, min_faces=10,
                    threads=1, device="cpu", progress=False, segmenter="none", perceptual_weight=0.0, deterministic=True,
                    **TINY_MODEL)
    weights = {}
    for placement in ("on", "off"):
        with caplog.at_level(logging.INFO, logger="faceswap.swap"):
            train_swap(SwapTrainConfig(model_dir=str(tmp_path / placement), faces_on_device=placement, **settings))
        weights[placement] = load_file(str(tmp_path / placement / "model.safetensors"))
    assert caplog.text.count("Training faces on cpu") == 1
    assert weights["on"].keys() == weights["off"].keys()
    assert all(torch.equal(weights["on"][name], weights["off"][name]) for name in weights["on"])
