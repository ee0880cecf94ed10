"""Curating a faces folder before training: find bad faces, take them out, with a trash that gives them back.

    from faceswap.curate import remove_faces, restore_faces, trashed_faces, sort_faces
    report = sort_faces("faces_a", by="identity")           # contact sheets per person in faces_a/sort_identity
    remove_faces("faces_a", report.faces_of([3]))           # or by name:
    remove_faces("faces_a", ["000012_0.png", "00013*_1"])   # crops + masks -> faces_a/trash, records out of alignments.json
    restore_faces("faces_a", ["000012_0"])                  # or restore_faces("faces_a") for all of them

``sort_faces`` orders or groups the faces by identity, blur, size, score, yaw or pitch and
draws a contact sheet per group. Every change happens under the folder's lock (a second command
gets a clear error) and is written atomically. Deleting a crop from faces/ by hand also takes
the face out of training (`faceswap train` skips it and counts it in its log), but only
`remove` keeps it to restore.
"""
from faceswap.curate.edit import CurateResult, remove_faces, restore_faces, trashed_faces
from faceswap.curate.sort import SORT_KEYS, sort_faces
from faceswap.curate.sort_report import FaceGroup, SortedFace, SortReport, read_sort_report
from faceswap.curate.trash import TrashedFace

__all__ = ["SORT_KEYS", "CurateResult", "FaceGroup", "SortReport", "SortedFace", "TrashedFace", "read_sort_report",
           "remove_faces", "restore_faces", "sort_faces", "trashed_faces"]
