"""The ``detector`` plugin family: find faces with a box, a score and five landmarks.

A detector is a class registered with ``@register("detector", name)``, built as
``Detector(DetectorSettings)``, with ``detect(frames_bgr_uint8: list[HxWx3]) ->
list[list[Detection]]`` (one list per frame; boxes and landmarks in frame pixels). Modules
here keep heavy imports inside functions: they are all imported on the first lookup.
"""
from faceswap.extract.detectors._base import Detection, DetectorSettings, load_detector

__all__ = ["Detection", "DetectorSettings", "load_detector"]
