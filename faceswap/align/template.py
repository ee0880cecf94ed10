"""The reference face template that aligned crops are made against.

Five reference points (eye centres, nose tip, mouth corners) in a unit square, centred on the
face. An aligned crop of ``size`` pixels places them at ``size * (0.5 + point * coverage)``:
a larger coverage zooms in on the face, a smaller one keeps more hair and background. Extract,
train and convert all derive their geometry from here, so a model can refuse faces that were
aligned against another template.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEMPLATE_NAME = "five_point_v1"

# The widely used 112x112 five-point reference (eyes, nose, mouth corners), normalised and
# re-centred so that (0, 0) is the middle of the face rather than the middle of the old crop.
_REFERENCE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)
_FACE_CENTRE_112 = np.array([56.0, 72.0])
REFERENCE_POINTS_5 = (_REFERENCE_112 - _FACE_CENTRE_112) / 112.0  # (5, 2), unit-square offsets

LEFT_EYE, RIGHT_EYE, NOSE, MOUTH_LEFT, MOUTH_RIGHT = range(5)


@dataclass(frozen=True)
class Template:
    size: int = 256
    coverage: float = 0.85
    name: str = TEMPLATE_NAME

    def as_dict(self) -> dict:
        return {"name": self.name, "size": self.size, "coverage": self.coverage}

    @classmethod
    def from_dict(cls, values: dict) -> "Template":
        return cls(size=int(values["size"]), coverage=float(values["coverage"]), name=values.get("name", TEMPLATE_NAME))

    def fits(self, other: "Template") -> bool:
        """Same template and coverage; the pixel size may differ (crops are resized)."""
        return self.name == other.name and abs(self.coverage - other.coverage) < 1e-6

    def points(self, size: int | None = None) -> np.ndarray:
        """The five reference points in pixels of a crop of ``size`` (default: the template's)."""
        size = size or self.size
        return (size * (0.5 + REFERENCE_POINTS_5 * self.coverage)).astype(np.float32)

    def eye_distance(self, size: int | None = None) -> float:
        pts = self.points(size)
        return float(np.linalg.norm(pts[RIGHT_EYE] - pts[LEFT_EYE]))

    def face_outline(self, size: int | None = None, samples: int = 48) -> np.ndarray:
        """A face-shaped polygon (N, 2) in crop pixels, built from the five points.

        An ellipse through brow, cheeks and chin: wide as ~2.3 eye distances, from ~0.9 eye
        distances above the eyes to ~0.9 below the mouth.
        """
        pts = self.points(size)
        eye_distance = self.eye_distance(size)
        eye_y = (pts[LEFT_EYE, 1] + pts[RIGHT_EYE, 1]) / 2
        mouth_y = (pts[MOUTH_LEFT, 1] + pts[MOUTH_RIGHT, 1]) / 2
        top, bottom = eye_y - 0.9 * eye_distance, mouth_y + 0.9 * eye_distance
        centre = np.array([pts[NOSE, 0], (top + bottom) / 2])
        radii = np.array([1.15 * eye_distance, (bottom - top) / 2])
        angles = np.linspace(0, 2 * np.pi, samples, endpoint=False)
        return (centre + radii * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)

    def region_weights(self, size: int | None = None, eyes: float = 3.0, mouth: float = 2.0) -> np.ndarray:
        """(size, size) float32 loss weights: 1 everywhere, ``eyes`` around the eyes, ``mouth`` around the mouth."""
        import cv2

        size = size or self.size
        pts = self.points(size)
        radius = 0.3 * self.eye_distance(size)
        weights = np.ones((size, size), np.float32)
        for eye in (LEFT_EYE, RIGHT_EYE):
            cv2.ellipse(weights, _int_point(pts[eye]), _int_axes(1.3 * radius, radius), 0, 0, 360, float(eyes), -1)
        mouth_centre = (pts[MOUTH_LEFT] + pts[MOUTH_RIGHT]) / 2
        half_width = 0.5 * float(np.linalg.norm(pts[MOUTH_RIGHT] - pts[MOUTH_LEFT])) + 0.4 * radius
        cv2.ellipse(weights, _int_point(mouth_centre), _int_axes(half_width, radius), 0, 0, 360, float(mouth), -1)
        return weights


def _int_point(point: np.ndarray) -> tuple[int, int]:
    return int(round(float(point[0]))), int(round(float(point[1])))


def _int_axes(a: float, b: float) -> tuple[int, int]:
    return max(1, int(round(a))), max(1, int(round(b)))
