"""`faceswap faces remove|restore|list FACES_DIR ...`: curate a faces folder before training.

`remove` moves crops and masks into FACES_DIR/trash and takes their records out of
alignments.json (atomically, under a lock); `restore` puts them back; `list` names the faces.
"""
from __future__ import annotations

import argparse

ORDER = 15
NAMES_HELP = ("faces as named in FACES_DIR/faces (000012_0.png, 000012_0 or faces/000012_0.png), "
              "paths to the crops, or glob patterns (quote them: '00001*_0.png')")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "faces", help="curate a faces folder: remove faces from training, restore them, list them",
        description="Take faces you do not want trained on (another person, a bad crop) out of a faces folder, "
                    "into FACES_DIR/trash, and put them back. Deleting a crop from FACES_DIR/faces by hand also "
                    "keeps `faceswap train` from using it, but only `remove` keeps it to restore.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    remove = commands.add_parser("remove", help="move faces into FACES_DIR/trash and out of alignments.json",
                                 description="Move the named faces' crops and masks into FACES_DIR/trash and drop "
                                             "them from alignments.json; `faceswap faces restore` brings them back.")
    remove.add_argument("faces_dir", metavar="FACES_DIR", help="faces folder written by `faceswap extract`")
    remove.add_argument("names", nargs="+", metavar="NAME", help=NAMES_HELP)
    remove.set_defaults(run=_remove)
    restore = commands.add_parser("restore", help="put faces of FACES_DIR/trash back",
                                  description="Put removed faces back: their crops and masks into the folder, their "
                                              "records into alignments.json in frame order.")
    restore.add_argument("faces_dir", metavar="FACES_DIR", help="faces folder written by `faceswap extract`")
    restore.add_argument("names", nargs="*", metavar="NAME", help=NAMES_HELP)
    restore.add_argument("--all", action="store_true", help="restore every face in the trash")
    restore.set_defaults(run=_restore)
    listing = commands.add_parser("list", help="name the faces alignments.json lists (or the trash holds)",
                                  description="One face a line: its name, frame and track (tab-separated).")
    listing.add_argument("faces_dir", metavar="FACES_DIR", help="faces folder written by `faceswap extract`")
    listing.add_argument("--trash", action="store_true", help="list the faces in FACES_DIR/trash instead")
    listing.set_defaults(run=_list)
    parser.set_defaults(run=lambda args: parser.print_help() or 1)


def _remove(args: argparse.Namespace) -> int:
    from faceswap.curate import remove_faces

    result = remove_faces(args.faces_dir, args.names)
    gone = f" ({result.crops_missing} of them had no crop any more)" if result.crops_missing else ""
    print(f"Moved {len(result.changed)} faces into {args.faces_dir}/trash{gone}; alignments.json lists {result.listed} "
          f"faces. Bring them back with `faceswap faces restore {args.faces_dir} NAME...` (or --all).")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from faceswap.curate import restore_faces
    from faceswap.errors import UserError

    if args.all == bool(args.names):
        raise UserError("Name the faces to restore or pass --all (not both); `faceswap faces list FACES_DIR --trash` names them.")
    result = restore_faces(args.faces_dir, None if args.all else args.names)
    gone = f" ({result.crops_missing} without a crop, neither in the trash nor in the folder)" if result.crops_missing else ""
    print(f"Restored {len(result.changed)} faces{gone}; alignments.json lists {result.listed} faces, "
          f"{result.trashed} are left in the trash.")
    return 0


def _list(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from faceswap.align.alignments import load
    from faceswap.curate import trashed_faces

    trashed = trashed_faces(args.faces_dir)
    if args.trash:
        rows = [(face.name, face.frame_index, face.record.track_id) for face in trashed]
    else:
        rows = [(face.face_file, frame.index, face.track_id) for frame, face in load(args.faces_dir).faces()]
    for name, frame, track in rows:
        print(f"{Path(name).name}\tframe {frame}\ttrack {track}")
    listed = "" if args.trash else f"{len(rows)} faces listed in alignments.json, "
    print(f"{listed}{len(trashed)} in the trash of {args.faces_dir}", file=sys.stderr)
    return 0
