"""Faces of one person, for the identity check: from a faces folder written by `faceswap extract`,
a folder of images, one image or a video; at most ``limit`` faces, evenly spread.

A faces folder gives its aligned crops, with each face's box mapped into the crop; it keeps the
track with the most faces (the person the folder is about). Other inputs are searched with
FaceFinder on at most ``limit`` evenly spaced frames, keeping the largest face of each.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from faceswap.errors import UserError


def person_faces(path: str | Path, limit: int, device: str = "auto") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(images BGR uint8, face boxes x0 y0 x1 y1 in those images), one pair per face."""
    from faceswap.align.alignments import alignments_path

    path = Path(path)
    if not path.exists():
        raise UserError(f"Person B's faces '{path}' do not exist; give a faces folder from `faceswap extract`, "
                        f"a folder of images, an image or a video.")
    images, boxes = _from_faces_folder(path, limit) if alignments_path(path).is_file() else _from_media(path, limit, device)
    if not images:
        raise UserError(f"No face was found in '{path}'; give person B's faces folder, images or video.")
    return images, boxes


def _evenly(count: int, limit: int) -> list[int]:
    return sorted(set(np.linspace(0, count - 1, min(limit, count)).round().astype(int).tolist())) if count else []


def _from_faces_folder(folder: Path, limit: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from faceswap.align.alignments import load
    from faceswap.align.face_measures import box_in_crop
    from faceswap.video.image_folder import read_image

    faces = [face for _, face in load(folder).faces()]
    tracks = [face.track_id for face in faces]
    main_track = max(set(tracks), key=tracks.count) if tracks else None
    faces = [face for face in faces if face.track_id == main_track]
    images, boxes = [], []
    for i in _evenly(len(faces), limit):
        crop = read_image(folder / faces[i].face_file, rgb=False)
        if crop is None:
            continue
        images.append(crop)
        boxes.append(box_in_crop(np.asarray(faces[i].box), faces[i].matrix_array()))
    return images, boxes


def _from_media(path: Path, limit: int, device: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from faceswap.extract import FaceFinder
    from faceswap.video import open_reader

    images, boxes = [], []
    with open_reader(path) as reader:
        wanted = set(_evenly(reader.info.frame_count, limit))
        chosen = (frame for frame in reader if frame.index in wanted)
        for frame, faces in FaceFinder(select="all", device=device, progress=False, smooth=False).find(chosen):
            if faces:
                largest = max(faces, key=lambda face: float((face.box[2] - face.box[0]) * (face.box[3] - face.box[1])))
                image, box = around_face(frame.image, np.asarray(largest.box, np.float32))
                images.append(image)
                boxes.append(box)
    return images, boxes


def around_face(image: np.ndarray, box: np.ndarray, margin: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The part of the image around a face box (grown by ``margin`` of its size on each side, a
    copy, so the frame can go) and the box in that part's pixels."""
    height, width = image.shape[:2]
    grow = margin * np.array([box[2] - box[0], box[3] - box[1]])
    x0, y0 = np.maximum(np.floor(box[:2] - grow).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(box[2:4] + grow).astype(int), (width, height))
    return image[y0:y1, x0:x1].copy(), (box[:4] - np.array([x0, y0, x0, y0])).astype(np.float32)
