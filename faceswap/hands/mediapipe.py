"""MediaPipe's hand finder: its palm detector, then its 21-point hand landmark model, run by OpenCV.

Both models are TFLite files read out of the ``mediapipe`` wheel (Apache-2.0) as assets; mediapipe
itself is never installed. Palms are looked for in a square around each face, three faces wide,
so a hand over a small face in a large frame is as big to the detector as in a close-up. Each palm
gives a rotated square around the whole hand (MediaPipe's rule: 2.6 palm sizes, shifted towards
the fingers, turned so the fingers point up), where the landmark model places the 21 points and
says whether a hand is there at all. The palm detector's threshold is low (0.3): the landmark
model's presence score is what confirms a hand.
"""
from __future__ import annotations

import math

import numpy as np

from faceswap.hands import palms as palm_model
from faceswap.registry import register

PALM_ASSET = "mediapipe_palm_detection"
LANDMARK_ASSET = "mediapipe_hand_landmarks"
LANDMARK_SIZE = 224
REGION = 3.0  # palms are looked for in a square this many face sizes wide, centred on the face
HAND_SCALE = 2.6  # the hand square, in palm sizes
HAND_SHIFT = 0.5  # ... moved this many palm heights towards the fingers
MIN_PRESENCE = 0.5  # the landmark model's own "a hand is here" score
SAME_HAND = 0.3  # hands whose point boxes overlap more than this (IoU) are one hand
TRACKED_POINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)  # palm and finger roots: the square to follow a hand in
TRACK_SCALE = 2.0
TRACK_SHIFT = 0.1
PALMS_EVERY = 5  # while hands are followed, look for new ones only every this many frames
PALMS_EVERY_IDLE = 2  # ... and while none is, every this many: a hand moving in is found a frame later at most


@register("hands", "mediapipe")
class MediaPipeHands:
    """Stateful like MediaPipe's own graph: a hand found in one frame gives the square to look in for
    the next, so a hand the palm detector scores low in some frames is still followed, and the palm
    detector runs only every ``PALMS_EVERY_IDLE`` frames while no hand is followed (every
    ``PALMS_EVERY`` for another hand while one is). Call
    ``find`` in frame order; ``reset`` before another video."""

    def __init__(self):
        import cv2

        from faceswap import assets

        self.palm_net = cv2.dnn.readNetFromTFLite(str(assets.ensure(PALM_ASSET)))
        self.landmark_net = cv2.dnn.readNetFromTFLite(str(assets.ensure(LANDMARK_ASSET)))
        self.anchors = palm_model.anchor_centres()
        self.previous: list[np.ndarray] = []
        self.frames_since_palms = PALMS_EVERY  # the first frame looks for palms

    def reset(self) -> None:
        self.previous, self.frames_since_palms = [], PALMS_EVERY

    def find(self, image_bgr_uint8: np.ndarray, face_boxes_xyxy) -> list[np.ndarray]:
        """(21, 2) landmarks in image pixels for each hand near the faces."""
        squares = [_square_from_landmarks(points) for points in self.previous]
        self.frames_since_palms += 1
        if self.frames_since_palms >= (PALMS_EVERY if squares else PALMS_EVERY_IDLE):  # followed hands need no palm detector
            self.frames_since_palms = 0
            squares += self._palm_squares(image_bgr_uint8, face_boxes_xyxy)
        hands: list[np.ndarray] = []
        for square in squares:
            points = self._landmarks(image_bgr_uint8, *square)
            if points is not None and all(palm_model.box_overlap(_bounds(points), _bounds(kept)) <= SAME_HAND for kept in hands):
                hands.append(points)
        self.previous = hands
        return hands

    def _palm_squares(self, image_bgr_uint8: np.ndarray, face_boxes_xyxy) -> list[tuple[np.ndarray, float, float]]:
        squares = []
        for box in face_boxes_xyxy:
            region = _region_matrix(np.asarray(box, np.float64), palm_model.INPUT_SIZE)
            to_image = _inverse(region)
            squares += [_square_from_palm(palm, to_image) for palm in self._palms(image_bgr_uint8, region)]
        return squares

    def _palms(self, image: np.ndarray, region: np.ndarray) -> list[palm_model.Palm]:
        import cv2

        square = cv2.warpAffine(image, region, (palm_model.INPUT_SIZE,) * 2, flags=cv2.INTER_AREA,
                                borderMode=cv2.BORDER_CONSTANT)
        self.palm_net.setInput(_blob(square))
        regressors, logits = self.palm_net.forward(self.palm_net.getUnconnectedOutLayersNames())
        return palm_model.decode(regressors[0], logits[0, :, 0], self.anchors)

    def _landmarks(self, image: np.ndarray, centre: np.ndarray, side: float, angle: float) -> np.ndarray | None:
        """The 21 points in a square (image pixels) turned by ``angle``, or None where the model sees no hand."""
        import cv2

        rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) * side / LANDMARK_SIZE
        crop_to_image = np.hstack([rotation, (centre - rotation @ np.full(2, LANDMARK_SIZE / 2))[:, None]])
        crop = cv2.warpAffine(image, _inverse(crop_to_image), (LANDMARK_SIZE,) * 2, flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)
        self.landmark_net.setInput(_blob(crop))
        names = self.landmark_net.getUnconnectedOutLayersNames()
        outputs = dict(zip(names, self.landmark_net.forward(names)))
        if float(outputs["Identity_1"].reshape(-1)[0]) < MIN_PRESENCE:
            return None
        return _apply(crop_to_image, outputs["Identity"].reshape(21, 3)[:, :2])


def _upright_angle(wrist: np.ndarray, finger_root: np.ndarray) -> float:
    """The turn that makes the wrist -> finger root direction point up in the crop."""
    return math.pi / 2 - math.atan2(-(finger_root[1] - wrist[1]), finger_root[0] - wrist[0])


def _towards_fingers(angle: float) -> np.ndarray:
    return np.array([math.sin(angle), -math.cos(angle)])


def _square_from_palm(palm: palm_model.Palm, region_to_image: np.ndarray) -> tuple[np.ndarray, float, float]:
    """MediaPipe's hand square from a palm: 2.6 palm sizes, shifted half a palm towards the fingers."""
    wrist, middle = _apply(region_to_image, palm.points[[0, 2]])
    size = abs(region_to_image[0, 0]) * palm.size  # the region is an unturned square: one scale
    angle = _upright_angle(wrist, middle)
    centre = _apply(region_to_image, palm.centre[None])[0] + HAND_SHIFT * size[1] * _towards_fingers(angle)
    return centre, HAND_SCALE * float(size.max()), angle


def _square_from_landmarks(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """MediaPipe's square for the next frame from this frame's hand: the palm and finger-root points'
    box, upright, doubled and moved a tenth towards the fingers."""
    angle = _upright_angle(points[0], points[9])
    turn = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])  # image -> upright
    upright = points[list(TRACKED_POINTS)] @ turn.T
    low, high = upright.min(axis=0), upright.max(axis=0)
    size = high - low
    centre = ((low + high) / 2) @ turn + TRACK_SHIFT * size[1] * _towards_fingers(angle)
    return centre, TRACK_SCALE * float(size.max()), angle


def _bounds(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def _region_matrix(face_box: np.ndarray, size: int) -> np.ndarray:
    """Image -> a ``size`` square, ``REGION`` face sizes wide, centred on the face."""
    centre = (face_box[:2] + face_box[2:]) / 2
    side = REGION * float(max(face_box[2] - face_box[0], face_box[3] - face_box[1], 1.0))
    scale = size / side
    return np.array([[scale, 0, size / 2 - scale * centre[0]], [0, scale, size / 2 - scale * centre[1]]])


def _inverse(matrix: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.invertAffineTransform(matrix)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, np.float64) @ matrix[:, :2].T + matrix[:, 2]


def _blob(square_bgr_uint8: np.ndarray) -> np.ndarray:
    """NCHW RGB float32 in [0, 1], as both models were trained."""
    return np.ascontiguousarray((square_bgr_uint8[..., ::-1].astype(np.float32) / 255).transpose(2, 0, 1)[None])
