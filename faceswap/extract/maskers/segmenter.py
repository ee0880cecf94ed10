"""The visible face as a trained segmenter sees it: hands, hair and objects in front stay out.

Where the segmenter finds (almost) no face in a crop, the landmark outline stands in and
``fallbacks`` counts it, so one odd frame never leaves a face unswapped or crashes a run.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from faceswap.align.mask import outline_mask
from faceswap.align.template import Template
from faceswap.errors import UserError
from faceswap.registry import register

MIN_AREA_SHARE = 0.02  # below this share of the landmark outline the segmentation failed (a hand over most
# of the face leaves 7-15% visible in the sample talk: that is a right answer, not a failure)


@register("masker", "segmenter")
class SegmenterMasker:
    needs_landmarks = 5
    needs_image = True

    def __init__(self, segmenter_dir: str | None = None, device: str = "cpu", **_options):
        if not segmenter_dir:
            raise UserError("The segmenter masker needs a trained segmenter; pass --segmenter DIR "
                            "(a folder from `faceswap mask train`, or MODEL_DIR/segmenter from `faceswap train`).")
        from faceswap.segment import load_segmenter

        self.segmenter = load_segmenter(segmenter_dir, device)
        self.fallbacks = 0

    def masks(self, crops_bgr_NHWC_uint8, landmarks_crop_xy: list[np.ndarray], template: Template, size: int) -> np.ndarray:
        import cv2

        if not self.segmenter.template.fits(template):
            raise UserError(f"The segmenter was trained on faces aligned as {self.segmenter.template.as_dict()}, these are "
                            f"{template.as_dict()}; use a segmenter trained on faces extracted with the same settings.")
        if len(landmarks_crop_xy) == 0:
            return np.zeros((0, size, size), np.uint8)
        probabilities = self.segmenter.predict(np.asarray(crops_bgr_NHWC_uint8))
        masks = np.empty((len(probabilities), size, size), np.uint8)
        for index, (probability, points) in enumerate(zip(probabilities, landmarks_crop_xy)):
            if probability.shape[0] != size:
                probability = cv2.resize(probability, (size, size), interpolation=cv2.INTER_LINEAR)
            mask = (probability > 0.5).astype(np.uint8) * 255
            if np.count_nonzero(mask) < MIN_AREA_SHARE * _outline_area(template, size):
                mask, self.fallbacks = outline_mask(points, template, size), self.fallbacks + 1
            masks[index] = mask
        return masks


@lru_cache(maxsize=8)
def _outline_area(template: Template, size: int) -> float:
    """Pixels inside the template's face outline at ``size``: the yardstick for an empty mask
    (drawn once, not per face)."""
    import cv2

    return float(cv2.contourArea(template.face_outline(size)))
