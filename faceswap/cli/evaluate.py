"""`faceswap evaluate`: the quality report of a converted video."""
from __future__ import annotations

import argparse

ORDER = 40


def add_parser(subparsers) -> None:
    from faceswap.evaluate.quality import DEFAULT_SAMPLES

    parser = subparsers.add_parser(
        "evaluate", help="quality report of a converted video (detection, jitter, seams, untouched pixels, verdicts)",
        description="Measure a converted video: share of frames where a face is still detected, landmark jitter "
                    "along tracks, a seam score, and with --reference that pixels away from the faces are unchanged "
                    "and how much changed just outside the face; with --reference it also gives plain verdicts "
                    "(seam: clean / visible / hard edge, outside the face: clean / changed, or face lost), and the swap's "
                    "quality with verdicts: identity (with --person-b or --model), expression and head pose kept, sharpness.")
    parser.add_argument("video", help="the converted video")
    parser.add_argument("--reference", help="the video it was converted from (same frames)")
    parser.add_argument("--reference-start", type=int, default=0, metavar="FRAME",
                        help="first reference frame, for outputs of `convert --frames START:END` (default: 0)")
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH",
                        help="print the report as JSON (or write it to PATH)")
    parser.add_argument("--tolerance", type=int, default=12,
                        help="colour difference still counted as unchanged, 0..255 (default: 12)")
    parser.add_argument("--segmenter", metavar="DIR",
                        help="trained segmenter folder whose face region the band outside the face is measured from "
                             "(default: the landmark outline; needs --reference)")
    parser.add_argument("--person-b", metavar="PATH",
                        help="who the face should now look like, for the identity check: B's faces folder from "
                             "`faceswap extract`, a folder of images, an image or a video (needs --reference)")
    parser.add_argument("--model", metavar="DIR",
                        help="the model folder the video was converted with (--swap a2b): person B is the faces_b "
                             "it was trained on (when --person-b is not given)")
    parser.add_argument("--quality-frames", type=int, default=DEFAULT_SAMPLES, metavar="N",
                        help="frames sampled (evenly) for identity and expression, and B's faces used; "
                             f"0 leaves the quality section out (default: {DEFAULT_SAMPLES})")
    parser.add_argument("--detector", help="face detector plugin (default: extract's default)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = library default)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from faceswap.evaluate.report import evaluate, write_report
    from faceswap.errors import UserError

    for path in filter(None, (args.video, args.reference)):
        if not Path(path).is_file():
            raise UserError(f"The video '{path}' does not exist; check the path.")
    if args.segmenter and not Path(args.segmenter).is_dir():
        raise UserError(f"The segmenter folder '{args.segmenter}' does not exist; check the path or leave out --segmenter.")
    person_b = args.person_b or (_faces_b_of(args.model) if args.model else None)
    report = evaluate(args.video, args.reference, tolerance=args.tolerance, detector=args.detector,
                      device=args.device, threads=args.threads, reference_start=args.reference_start,
                      segmenter_dir=args.segmenter, person_b=person_b, quality_frames=args.quality_frames)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json == "-":
        print(json.dumps(report.as_dict(), indent=1))
    else:
        if args.json:
            write_report(report, json_path=args.json)
        print(report.describe())
    return 0


def _faces_b_of(model_dir: str) -> str:
    """The faces_b folder a model was trained on, from its train_config.json."""
    from pathlib import Path

    from faceswap.errors import UserError
    from faceswap.fileio import read_json

    config = Path(model_dir) / "train_config.json"
    if not config.is_file():
        raise UserError(f"The model folder '{model_dir}' has no train_config.json to say who person B is; "
                        f"pass --person-b with B's faces folder instead.")
    faces_b = read_json(config, "training settings").get("faces_b")
    if not faces_b or not Path(faces_b).exists():
        raise UserError(f"The faces_b folder '{faces_b}' named in {config} is not there; pass --person-b with B's faces instead.")
    return str(faces_b)
