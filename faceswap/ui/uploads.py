"""Uploads: a size limit, a type check on the name and on the first bytes, and an atomic write."""
from __future__ import annotations

import re
from pathlib import Path
from typing import AsyncIterator

from faceswap.errors import UserError
from faceswap.fileio import atomic_path

UPLOAD_DIR = "uploads"
# suffix -> a test on the file's first bytes (so a renamed text file is refused)
SIGNATURES = {
    ".mp4": lambda head: head[4:8] == b"ftyp",
    ".m4v": lambda head: head[4:8] == b"ftyp",
    ".mov": lambda head: head[4:8] in (b"ftyp", b"moov", b"wide", b"mdat", b"free"),
    ".mkv": lambda head: head[:4] == b"\x1a\x45\xdf\xa3",
    ".webm": lambda head: head[:4] == b"\x1a\x45\xdf\xa3",
    ".avi": lambda head: head[:4] == b"RIFF" and head[8:12] == b"AVI ",
    ".png": lambda head: head[:8] == b"\x89PNG\r\n\x1a\n",
    ".jpg": lambda head: head[:3] == b"\xff\xd8\xff",
    ".jpeg": lambda head: head[:3] == b"\xff\xd8\xff",
}
HEAD_BYTES = 16


def upload_name(name: str) -> str:
    """The file name an upload is stored under in WORKSPACE/uploads, checked for its type."""
    base = Path((name or "").replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in SIGNATURES:
        raise UserError(f"'{base or name}' is not a video or image this page takes; upload one of "
                        f"{', '.join(sorted(SIGNATURES))}.")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(base).stem).strip("._") or "upload"
    return f"{stem}{suffix}"


async def save_upload(chunks: AsyncIterator[bytes], target: Path, max_bytes: int) -> int:
    """Write the streamed body to ``target``; refuse it (nothing left behind) when too large or of the wrong type."""
    size, head = 0, b""
    with atomic_path(target) as temp:
        with open(temp, "wb") as handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UserError(f"'{target.name}' is larger than the upload limit of {max_bytes // 2**20} MiB; "
                                    "copy it into the workspace folder instead, or start `faceswap ui` with a larger --max-upload-mb.")
                if len(head) < HEAD_BYTES:
                    head += chunk[:HEAD_BYTES - len(head)]
                handle.write(chunk)
        if not SIGNATURES[target.suffix.lower()](head):
            raise UserError(f"'{target.name}' is not a {target.suffix.lstrip('.').upper()} file (its first bytes say otherwise); "
                            "upload the video or image itself.")
    return size
