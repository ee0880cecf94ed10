"""The project folder: every path the page names is resolved inside it, or refused."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from faceswap.errors import UserError

UI_DIR = ".ui"  # the server's own state (jobs, previews), hidden from the listings


@dataclass(frozen=True)
class Workspace:
    root: Path  # absolute and resolved

    @classmethod
    def open(cls, folder: str | os.PathLike) -> "Workspace":
        root = Path(folder).expanduser()
        if root.exists() and not root.is_dir():
            raise UserError(f"The workspace '{folder}' is a file; give a folder (it is created when missing).")
        root.mkdir(parents=True, exist_ok=True)
        (root / UI_DIR / "jobs").mkdir(parents=True, exist_ok=True)
        return cls(root.resolve())

    def resolve(self, relative: str, must_exist: bool = False) -> Path:
        """``relative`` (as the page sends it, '/'-separated) as an absolute path inside the workspace.

        Refused: empty names, absolute paths, any '..' part, and names whose resolved path
        (symlinks followed) leaves the workspace."""
        text = (relative or "").strip()
        if not text:
            raise UserError("A path is empty; choose a file or folder of the workspace.")
        posix, windows = PurePosixPath(text.replace("\\", "/")), PureWindowsPath(text)
        if posix.is_absolute() or windows.is_absolute() or windows.drive:
            raise UserError(f"The path '{text}' is absolute; give a path inside the workspace, such as videos/a.mp4.")
        if ".." in posix.parts:
            raise UserError(f"The path '{text}' leaves the workspace ('..'); give a path inside it.")
        path = (self.root / posix).resolve()
        if not path.is_relative_to(self.root):
            raise UserError(f"The path '{text}' leads outside the workspace (through a link); give a path inside it.")
        if must_exist and not path.exists():
            raise UserError(f"'{text}' does not exist in the workspace; choose one of its files or folders.")
        return path

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    @property
    def jobs_dir(self) -> Path:
        return self.root / UI_DIR / "jobs"

    @property
    def previews_dir(self) -> Path:
        return self.root / UI_DIR / "previews"

    def files(self, suffixes: tuple[str, ...], limit: int = 500) -> list[str]:
        """Workspace files with these suffixes (case-insensitive), without the server's own and the faces folders' insides."""
        found = []
        for folder, names in self._walk():
            found += [self.relative(Path(folder) / name) for name in sorted(names) if name.lower().endswith(suffixes)]
            if len(found) >= limit:
                return found[:limit]
        return found

    def folders_holding(self, marker: str, limit: int = 200) -> list[str]:
        """Folders of the workspace that hold a file named ``marker`` (alignments.json, model.json)."""
        found = [self.relative(Path(folder)) if Path(folder) != self.root else "."
                 for folder, names in self._walk() if marker in names]
        return found[:limit]

    def _walk(self):
        """(folder, file names), skipping hidden folders and the bulk inside faces folders and model folders."""
        for folder, subfolders, names in os.walk(self.root):
            inner = set()
            if "alignments.json" in names:
                inner = {"faces", "masks", "trash"}
            if "model.json" in names:
                inner = {"face_cache", "training", "checkpoints"}
            subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in inner)
            yield folder, names
