"""What choosing the person by a reference photo costs, measured in the same run.

    .venv/bin/python scripts/bench_reference.py [--repeat 3] [--faces 32]

Prints:
  * identity descriptors per second (the default identity plugin, one batch of --faces faces
    of the sample videos, and one face at a time);
  * extract fps with ``--reference`` / extract fps with the default ``--select largest``, in
    interleaved pairs, median ratio, on the two-person clip (the two sample videos side by side,
    sides swapped halfway; the man's photo as reference) and on the woman's video (472 frames;
    her last frame as reference); and how many faces were described against how many were seen.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def descriptors_per_second(faces: int) -> tuple[float, float]:
    from faceswap import assets
    from faceswap.evaluate.person import person_faces
    from faceswap.identity import load_describer

    images, boxes = person_faces(assets.ensure("video_wolfgang"), faces)
    describer = load_describer(device="cpu")
    describer.describe(images[:1], boxes[:1])  # warm-up
    started = time.perf_counter()
    describer.describe(images, boxes)
    batched = len(images) / (time.perf_counter() - started)
    started = time.perf_counter()
    for image, box in zip(images, boxes):
        describer.describe([image], [box])
    return batched, len(images) / (time.perf_counter() - started)


def extract_fps(clip: Path, out: Path, reference: tuple[str, ...]) -> tuple[float, dict]:
    from faceswap.extract import ExtractConfig, extract

    summary = extract(ExtractConfig(input=str(clip), output_dir=str(out), reference=reference, overwrite=True, progress=False))
    return summary.frames / summary.seconds, {"faces": summary.faces, "frames": summary.frames}


def checks_made(clip: Path, reference: tuple[str, ...]) -> tuple[int, int]:
    """(faces described, faces seen) when selecting by reference on the clip."""
    from faceswap.extract import FaceFinder
    from faceswap.extract.reference import ReferenceSelector
    from faceswap.video import open_reader

    finder = FaceFinder(reference=reference, progress=False)
    seen = 0
    choose = finder.selector.choose

    def counting(boxes, track_ids, image=None):
        nonlocal seen
        seen += len(boxes)
        return choose(boxes, track_ids, image)

    finder.selector.choose = counting
    with open_reader(clip) as reader:
        for _ in finder.find(reader):
            pass
    assert isinstance(finder.selector, ReferenceSelector)
    return finder.selector.checks, seen


def main() -> None:
    from _convert_media import two_people_clip

    from faceswap import assets

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--faces", type=int, default=32)
    args = parser.parse_args()
    batched, single = descriptors_per_second(args.faces)
    print(f"identity descriptors: {batched:.1f}/s in a batch of {args.faces}, {single:.1f}/s one at a time")
    with tempfile.TemporaryDirectory() as folder:
        clip, her_photo = Path(folder) / "two_people.mp4", Path(folder) / "her.png"
        two_people_clip(assets.ensure("video_wolfgang"), assets.ensure("video_single_face"), clip)
        last_frame(assets.ensure("video_wolfgang"), her_photo)
        for label, video, photo in (("two-person clip", clip, assets.ensure("image_single_face")),
                                    ("woman's video", assets.ensure("video_wolfgang"), her_photo)):
            compare(label, video, (str(photo),), Path(folder), args.repeat)


def compare(label: str, video: Path, reference: tuple[str, ...], folder: Path, repeat: int) -> None:
    ratios = []
    for _ in range(repeat):
        plain, _ = extract_fps(video, folder / "plain", ())
        chosen, counts = extract_fps(video, folder / "reference", reference)
        ratios.append(chosen / plain)
        print(f"  {label}: extract {plain:.1f} fps, with --reference {chosen:.1f} fps "
              f"({counts['faces']} faces kept of {counts['frames']} frames)")
    described, seen = checks_made(video, reference)
    print(f"{label}: extract with --reference / without: {statistics.median(ratios):.2f} (median of {repeat}); "
          f"{described} of {seen} faces seen were described")


def last_frame(video: Path, path: Path) -> None:
    import cv2

    from faceswap.video import open_reader

    with open_reader(video) as reader:
        for frame in reader:
            image = frame.image
    cv2.imwrite(str(path), image)


if __name__ == "__main__":
    main()
