"""Curating a faces folder before training: take faces out, with a trash that gives them back.

    from faceswap.curate import remove_faces, restore_faces, trashed_faces
    remove_faces("faces_a", ["000012_0.png", "00013*_1"])   # crops + masks -> faces_a/trash, records out of alignments.json
    restore_faces("faces_a", ["000012_0"])                  # or restore_faces("faces_a") for all of them

Every change happens under the folder's lock (a second command gets a clear error) and is
written atomically. Deleting a crop from faces/ by hand also takes the face out of training
(`faceswap train` skips it and counts it in its log), but only `remove` keeps it to restore.
"""
from faceswap.curate.edit import CurateResult, remove_faces, restore_faces, trashed_faces
from faceswap.curate.trash import TrashedFace

__all__ = ["CurateResult", "TrashedFace", "remove_faces", "restore_faces", "trashed_faces"]
