"""The extract stage: detect -> landmarks -> track -> smooth -> align -> mask -> write.

Batch use (what ``faceswap extract`` runs)::

    from faceswap.extract import ExtractConfig, extract
    summary = extract(ExtractConfig(input="talk.mp4", output_dir="faces_a"))
    # ExtractSummary(frames, frames_with_faces, faces, tracks, seconds, fps, skipped_frames, warnings, output_dir)

writes into ``output_dir``: ``faces/NNNNNN_K.jpg`` (aligned BGR crops, ``size`` pixels; ``.png``
with ``face_format="png"``),
``masks/NNNNNN_K.png`` (single-channel uint8 face masks in crop pixels),
``alignments.json`` (``faceswap.align.alignments``; one FrameRecord per frame read, with or
without faces) and ``extract_config.json`` (the resolved settings).

Streaming use, nothing written (what convert uses)::

    from faceswap.extract import FaceFinder          # also faceswap.extract.pipeline.FaceFinder
    from faceswap.video import open_reader

    finder = FaceFinder(size=256, coverage=0.85)     # or FaceFinder(ExtractConfig(...), **overrides)
    with open_reader("in.mp4") as reader:
        for frame, faces in finder.find(reader):     # frames: any iterable of faceswap.video.Frame
            for face in faces:                        # FoundFace
                face.box            # (4,) float32 x0, y0, x1, y1, frame pixels
                face.score          # float
                face.landmarks      # (5 or 68, 2) float32 frame pixels, smoothed along the track
                face.raw_landmarks  # (K, 2) float32 as the aligner gave them
                face.track_id       # int, stable across frames while the face stays in view
                face.matrix         # (2, 3) float64 frame -> crop of finder.template.size (cv2.warpAffine)
                crop = finder.crop(frame.image, face)   # (size, size, 3) aligned face
                mask = finder.mask(face, crop)          # (size, size) uint8 face mask in crop pixels

Frames must be BGR (``open_reader``'s default). ``FaceFinder(...)`` raises
``faceswap.errors.UserError`` for an unknown plugin or missing weights.
``find(frames, prefetch=8)`` yields ``(frame, list[FoundFace])`` for every frame in order;
it pulls frames on a background thread and detects in batches of ``batch_size`` (every
``every``-th frame, optical flow in between). ``finder.template`` is the
``faceswap.align.template.Template`` the matrices were made for;
``faceswap.align.transform.invert(face.matrix)`` maps the crop back into the frame and
``faceswap.align.transform.warp_to_frame`` does the warp. One finder tracks one stream: make a
new one (or call ``find`` on consecutive frames only) per video. ``face.record(face_file,
mask_file)`` gives the ``faceswap.align.alignments.FaceRecord`` that extract stores.

Face types: ``faceswap.extract.faces`` (``Detection``, a detector's result; ``FoundFace``; ``nms``,
``box_iou``).

Plugins: ``detector`` (centerface, the default; mtcnn; s3fd), ``aligner`` (five_point, fan68), ``masker``
(outline, hull, segmenter) families in the registry; third parties add more through entry points.
"""
from faceswap.extract.config import ExtractConfig
from faceswap.extract.faces import FoundFace
from faceswap.extract.finder import FaceFinder
from faceswap.extract.pipeline import ExtractSummary, extract

__all__ = ["ExtractConfig", "ExtractSummary", "FaceFinder", "FoundFace", "extract"]
