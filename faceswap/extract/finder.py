"""FaceFinder: frames in, tracked, smoothed and aligned faces out, nothing written.

Extract writes what it yields to disk; convert calls it on the frames it is converting.
The detector runs on batches of frames (every ``every``-th frame when ``every`` > 1, with
optical flow in between); tracking, smoothing and alignment follow frame by frame.
"""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator

import numpy as np

from faceswap.align.template import Template
from faceswap.align.transform import five_points, frame_to_crop, transform_points, warp_to_crop
from faceswap.extract.config import ExtractConfig
from faceswap.extract.detectors import DetectorSettings, load_detector
from faceswap.extract.faces import Detection, FoundFace
from faceswap.extract.selection import make_selector
from faceswap.extract.smoothing import TrackSmoother
from faceswap.extract.tracking import Tracker, follow_faces
from faceswap.registry import get


class FaceFinder:
    """Find, track, smooth and align faces in a stream of ``faceswap.video.Frame``.

    ``FaceFinder(config)`` takes an ExtractConfig (input/output_dir are not used) or keyword
    overrides of its defaults: ``FaceFinder(size=128, coverage=0.8, threads=1)``.
    """

    def __init__(self, config: ExtractConfig | None = None, **overrides):
        from dataclasses import replace

        config = replace(config or ExtractConfig(), **overrides)
        self.config = config
        self.template = Template(size=config.size, coverage=config.coverage)
        self.detector = load_detector(config.detector, DetectorSettings.from_config(config))
        self.aligner = get("aligner", config.aligner)(config.device)
        self.masker = get("masker", _masker_name(config.masker, self.aligner.landmark_count))(
            segmenter_dir=config.segmenter, device=config.device)
        if self.masker.needs_landmarks > self.aligner.landmark_count:
            from faceswap.errors import UserError

            raise UserError(f"The '{config.masker}' masker needs {self.masker.needs_landmarks} landmarks but the "
                            f"'{config.aligner}' aligner gives {self.aligner.landmark_count}; use --aligner fan68 or --masker outline.")
        self.tracker = Tracker()
        self.selector = make_selector(config.select, config.reference, config.reference_distance, config.detector, config.device)
        self.smoother = TrackSmoother(config.smooth_min_cutoff, config.smooth_beta) if config.smooth else None
        self.position = 0  # frames seen so far (keyframes are positions divisible by `every`)
        self._previous_gray: np.ndarray | None = None
        self._previous_detections: list[Detection] = []

    def treat_as_stills(self) -> None:
        """The frames are separate photos, not a motion: no smoothing (it would blend faces of
        different pictures) and no identity carried along a track."""
        self.smoother = None
        if hasattr(self.selector, "stills"):
            self.selector.stills = True

    def find(self, frames: Iterable, prefetch: int = 8) -> Iterator[tuple[object, list[FoundFace]]]:
        """Yield (frame, faces) for every frame, in order. Frames are pulled on a background
        thread (``prefetch`` ahead) so that decoding overlaps detection; 0 pulls inline."""
        chunk_size = self.config.batch_size * self.config.every
        source = _prefetched(frames, prefetch) if prefetch else iter(frames)
        for chunk in _chunks(source, chunk_size):
            keys = [i for i in range(len(chunk)) if (self.position + i) % self.config.every == 0]
            detected = dict(zip(keys, self.detector.detect([chunk[i].image for i in keys])))
            for i, frame in enumerate(chunk):
                yield frame, self._faces_in(frame, detected.get(i))

    def crop(self, image: np.ndarray, face: FoundFace) -> np.ndarray:
        """The aligned face (template size, same channel order as the frame)."""
        return warp_to_crop(image, face.matrix, self.template.size)

    def mask(self, face: FoundFace, crop: np.ndarray | None = None) -> np.ndarray:
        """The face-region mask in aligned-crop pixels, (size, size) uint8; ``crop`` is the face's
        aligned crop (maskers that look at the image need it)."""
        if crop is None and self.masker.needs_image:
            raise ValueError(f"the '{self.config.masker}' masker needs the face's crop")
        crops = None if crop is None else crop[None]
        landmarks = [transform_points(face.landmarks, face.matrix)]
        return self.masker.masks(crops, landmarks, self.template, self.template.size)[0]

    def _faces_in(self, frame, detections: list[Detection] | None) -> list[FoundFace]:
        if self.config.every > 1:
            gray = _gray(frame.image)
            if detections is None:
                detections = follow_faces(self._previous_gray, gray, self._previous_detections) if self._previous_gray is not None else []
            self._previous_gray, self._previous_detections = gray, detections
        detections = detections or []
        landmarks = self.aligner.landmarks(frame.image, detections) if detections else []
        detections = detections[:len(landmarks)]
        track_ids = self.tracker.update(self.position, [d.box for d in detections], landmarks)
        self.position += 1
        chosen = self.selector.choose([d.box for d in detections], track_ids, frame.image)
        return [self._aligned(frame, detections[i], landmarks[i], track_ids[i]) for i in chosen]

    def _aligned(self, frame, detection: Detection, raw_landmarks: np.ndarray, track_id: int) -> FoundFace:
        landmarks = raw_landmarks
        if self.smoother is not None:
            width = float(detection.box[2] - detection.box[0])
            landmarks = self.smoother.smooth(track_id, raw_landmarks, frame.time, width)
        matrix = frame_to_crop(five_points(landmarks), self.template)
        return FoundFace(box=np.asarray(detection.box, np.float32), score=detection.score, landmarks=landmarks,
                         raw_landmarks=raw_landmarks, track_id=track_id, matrix=matrix)

    def at_resume_point(self) -> bool:
        """True between two detector chunks: continuing from here needs no optical-flow state
        and detects the same batches of frames as an uninterrupted run."""
        return self.position % (self.config.batch_size * self.config.every) == 0

    def state(self) -> dict:
        """What --resume needs to continue exactly where this finder is (JSON-able)."""
        return {"position": self.position, "tracker": self.tracker.state(), "selector": self.selector.state(),
                "smoother": self.smoother.state() if self.smoother else {}}

    def restore(self, state: dict) -> None:
        self.position = int(state["position"])
        self.tracker.restore(state["tracker"])
        self.selector.restore(state.get("selector", {}))
        if self.smoother is not None:
            self.smoother.restore(state["smoother"])


def _masker_name(masker: str, landmark_count: int) -> str:
    if masker != "auto":
        return masker
    return "hull" if landmark_count == 68 else "outline"


def _gray(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _chunks(items: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_DONE = object()


def _prefetched(items: Iterable, depth: int) -> Iterator:
    """Iterate ``items`` on a daemon thread, ``depth`` ahead; errors are re-raised here."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the consumer
            put(error)

    worker = threading.Thread(target=produce, name="frame-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
