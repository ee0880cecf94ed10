"""`faceswap faces sort|remove|restore|list FACES_DIR ...`: curate a faces folder before training.

`sort` groups the faces by one key (identity, blur, size, score, yaw, pitch) and draws a contact
sheet per group; `remove` moves crops and masks into FACES_DIR/trash and takes their records out
of alignments.json (atomically, under a lock), by name or by the groups of a sort's report;
`restore` puts them back; `list` names the faces.
"""
from __future__ import annotations

import argparse
from pathlib import Path

ORDER = 15
NAMES_HELP = ("faces as named in FACES_DIR/faces (000012_0.png, 000012_0 or faces/000012_0.png), "
              "paths to the crops, or glob patterns (quote them: '00001*_0.png')")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "faces", help="curate a faces folder: sort faces onto contact sheets, remove faces from training, restore them",
        description="Find faces you do not want trained on (another person, a blurry or turned face, a false "
                    "detection) with `sort`, take them out of a faces folder into FACES_DIR/trash with `remove`, and "
                    "put them back with `restore`. Deleting a crop from FACES_DIR/faces by hand also keeps "
                    "`faceswap train` from using it, but only `remove` keeps it to restore.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_sort(commands)
    remove = commands.add_parser("remove", help="move faces into FACES_DIR/trash and out of alignments.json",
                                 description="Move the named faces' crops and masks (or those of groups of a "
                                             "`faceswap faces sort` report) into FACES_DIR/trash and drop them from "
                                             "alignments.json; `faceswap faces restore` brings them back.")
    remove.add_argument("faces_dir", metavar="FACES_DIR", help="faces folder written by `faceswap extract`")
    remove.add_argument("names", nargs="*", metavar="NAME", help=NAMES_HELP)
    remove.add_argument("--from-sort", metavar="REPORT",
                        help="the report.json of `faceswap faces sort FACES_DIR` (or its folder); with --group")
    remove.add_argument("--group", type=int, action="append", default=[], metavar="N",
                        help="remove the faces of group N of the --from-sort report (repeat for more groups)")
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


def _add_sort(commands) -> None:
    from faceswap.curate.sort import DEFAULT_GROUPS, SORT_KEYS
    from faceswap.identity import DEFAULT_DESCRIBER

    sort = commands.add_parser(
        "sort", help="group the faces by identity, blur, size, score, yaw or pitch onto contact sheets",
        description="Order or group the faces of FACES_DIR by one key and draw a contact sheet (PNG) per group, with "
                    "each face's name and value, so faces of another person, blurry, turned or falsely detected "
                    "ones are found at a glance; writes FACES_DIR/sort_KEY/group_01.png, ... and report.json. "
                    "Remove a whole group with `faceswap faces remove FACES_DIR --from-sort REPORT --group N`.")
    sort.add_argument("faces_dir", metavar="FACES_DIR", help="faces folder written by `faceswap extract`")
    sort.add_argument("--by", required=True, metavar="KEY",
                      help=f"one of {', '.join(SORT_KEYS)}: identity groups people (largest first, outliers last in "
                           "each; descriptors are cached in FACES_DIR); blur: blurriest first; size: smallest box "
                           "first; score: lowest detector score first; yaw, pitch: most turned first")
    sort.add_argument("--groups", type=int, default=DEFAULT_GROUPS, metavar="N",
                      help="scalar keys: N groups of equal count; identity: at most N groups, the last pooling the "
                           f"smallest people (default: {DEFAULT_GROUPS})")
    sort.add_argument("-o", "--output", metavar="DIR",
                      help="folder for the sheets and report.json, replaced if an earlier sort wrote it "
                           "(default: FACES_DIR/sort_KEY)")
    sort.add_argument("--describer", default=DEFAULT_DESCRIBER, metavar="PLUGIN",
                      help=f"identity plugin for --by identity (default: {DEFAULT_DESCRIBER})")
    sort.add_argument("--json", action="store_true", help="print the report as JSON instead of a summary")
    sort.set_defaults(run=_sort)


def _sort(args: argparse.Namespace) -> int:
    import json
    import sys

    from faceswap.curate import sort_faces

    report = sort_faces(args.faces_dir, args.by, args.groups, args.output, args.describer,
                        progress=not args.json and sys.stderr.isatty())
    skipped = [f"{count} faces whose crops {why}" for count, why in
               ((report.deleted, "were deleted"), (report.unreadable, "could not be read")) if count]
    groups = f"{len(report.groups)} group{'s' if len(report.groups) > 1 else ''}"
    skipped_note = f" (skipped {' and '.join(skipped)})" if skipped else ""
    summary = [f"Sorted {report.faces} faces of {args.faces_dir} by {report.key} into {groups}{skipped_note}; sheets and "
               + f"report.json in {report.output}:"]
    summary += [f"  group {group.index}: {group.count} faces, {group.summary} -> {', '.join(group.sheets)}"
                for group in report.groups]
    summary.append(f"Remove a group with `faceswap faces remove {args.faces_dir} --from-sort "
                   f"{Path(report.output) / 'report.json'} --group N`.")
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    print("\n".join(summary), file=sys.stderr if args.json else sys.stdout)
    return 0


def _remove(args: argparse.Namespace) -> int:
    from faceswap.curate import remove_faces

    result = remove_faces(args.faces_dir, list(args.names) + _sorted_group_faces(args))
    gone = f" ({result.crops_missing} of them had no crop any more)" if result.crops_missing else ""
    print(f"Moved {len(result.changed)} faces into {args.faces_dir}/trash{gone}; alignments.json lists {result.listed} "
          f"faces. Bring them back with `faceswap faces restore {args.faces_dir} NAME...` (or --all).")
    return 0


def _sorted_group_faces(args: argparse.Namespace) -> list[str]:
    """The faces of the --group groups of the --from-sort report (checked to sort FACES_DIR)."""
    from faceswap.curate import read_sort_report
    from faceswap.errors import UserError

    if args.group and not args.from_sort:
        raise UserError("--group needs --from-sort REPORT, the report.json of `faceswap faces sort`.")
    if not args.from_sort:
        if not args.names:
            raise UserError("Name the faces to remove, or pass --from-sort REPORT --group N; "
                            "`faceswap faces list FACES_DIR` names them.")
        return []
    if not args.group:
        raise UserError(f"Say which groups of '{args.from_sort}' to remove with --group N (as numbered on its sheets).")
    report = read_sort_report(args.from_sort)
    report_path = Path(args.from_sort).resolve()
    if Path(report.folder) != Path(args.faces_dir).resolve() and not report_path.is_relative_to(Path(args.faces_dir).resolve()):
        raise UserError(f"The sort report '{args.from_sort}' sorts '{report.folder}', not '{args.faces_dir}'; "
                        f"pass that folder, or sort this one with `faceswap faces sort {args.faces_dir} --by KEY`.")
    return report.faces_of(args.group)


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
