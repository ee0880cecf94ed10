"""Face segmentation: a Tiramisu (FC-DenseNet) that finds the visible face in an aligned crop,
trained on the shared engine from the user's own faces folders.

    from faceswap.segment import SegmentTrainConfig, train_segmenter, load_segmenter
    train_segmenter(SegmentTrainConfig(faces=("faces_a", "faces_b"), out_dir="seg", minutes=3))
    segmenter = load_segmenter("seg", "cpu")
    masks = segmenter.predict(crops_bgr_NHWC_uint8)   # (N, S, S) float32, P(visible face)

Labels come from what a user has: the landmark outline refined by GrabCut (``labels.py``) less
the hands extract found over the face, with synthetic hands, objects and face pieces pasted over
the faces (``occluders.py``), whose pixels are not face. ``segmenter.template`` tells which aligned crops it expects.
"""
from faceswap.segment.config import SegmentTrainConfig
from faceswap.segment.folder import Segmenter, load_segmenter


def train_segmenter(config: SegmentTrainConfig) -> dict[str, float]:
    from faceswap.segment.train import train_segmenter as _train

    return _train(config)


__all__ = ["SegmentTrainConfig", "Segmenter", "load_segmenter", "train_segmenter"]
