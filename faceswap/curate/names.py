"""Which faces a user's words name: crop names as in FACES_DIR/faces, with or without the
suffix or the faces/ folder, glob patterns, or paths to the crops (as a shell expands a glob)."""
from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Sequence

from faceswap.curate.trash import TRASH_DIR


def normalise(word: str, faces_dir: Path) -> str:
    """A path to a file in the folder (or its trash) becomes its name relative to the folder; other words stay."""
    path = Path(word)
    if not (path.is_absolute() or path.exists()):
        return word
    try:
        relative = PurePosixPath(path.resolve().relative_to(faces_dir.resolve()).as_posix())
    except ValueError:
        return word  # outside the folder: it will match no face
    if relative.parts[:1] == (TRASH_DIR,):
        relative = PurePosixPath(*relative.parts[1:])
    return str(relative)


def matches(word: str, face_file: str) -> bool:
    """Whether ``word`` names ``face_file`` ('faces/000012_0.png'): whole, by file name, or by stem; globs allowed."""
    name = PurePosixPath(face_file)
    return any(fnmatchcase(candidate, word) for candidate in (face_file, name.name, name.stem))


def pick(words: Sequence[str], face_files: Sequence[str], faces_dir: Path) -> tuple[list[str], list[str]]:
    """(the face files that ``words`` name, in ``face_files`` order; the words that name none of them)."""
    chosen, unmatched = set(), []
    for word in words:
        normalised = normalise(word, faces_dir)
        hits = {face_file for face_file in face_files if matches(normalised, face_file)}
        if not hits:
            unmatched.append(word)
        chosen |= hits
    return [face_file for face_file in face_files if face_file in chosen], unmatched
