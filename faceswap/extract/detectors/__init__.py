"""The ``detector`` plugin family: find faces with a box, a score and five landmarks.

A detector is a class registered with ``@register("detector", name)``, built as
``Detector(DetectorSettings)``, with ``detect(frames_bgr_uint8: list[HxWx3]) ->
list[list[Detection]]`` (one list per frame; boxes and landmarks in frame pixels; ``Detection``,
``nms`` and ``box_iou`` are in ``faceswap.extract.faces``), and
optionally ``describe() -> str`` naming where it runs (provider, threads) for extract's log.
ONNX detectors build their sessions with ``_onnx.make_session`` so that ``--device`` picks the GPU
provider or falls back to the CPU with one warning. Modules here keep heavy imports inside
functions: they are all imported on the first lookup.
"""
from faceswap.extract.detectors._base import DetectorSettings, describe_detector, load_detector
from faceswap.extract.faces import Detection  # kept importable from here for plugins written against it

__all__ = ["Detection", "DetectorSettings", "describe_detector", "load_detector"]
