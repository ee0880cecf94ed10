"""The ``aligner`` plugin family: landmarks for detected faces.

An aligner is a class registered with ``@register("aligner", name)``, built as
``Aligner(device: str)``, with ``landmark_count`` (5 or 68) and ``landmarks(frame_bgr_uint8,
detections) -> list[np.ndarray (K, 2) float32]`` in frame pixels, one per detection.
"""
