"""`faceswap ui [WORKSPACE]`: a local web page for extract, faces, train, convert and classify."""
from __future__ import annotations

import argparse
import os

ORDER = 80


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ui", help="a local web page for the whole pipeline (needs the ui extra)",
        description="Serve a web page for one project folder: extract and review faces, train with a live preview, "
                    "preview and run convert, train and study classifiers. Jobs run as background processes that "
                    "keep going when the page closes. The page reads and writes only inside WORKSPACE.")
    parser.add_argument("workspace", metavar="WORKSPACE", nargs="?", default="faceswap_project",
                        help="project folder (created when missing; default: ./faceswap_project)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only; any other needs --token)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860; 0: any free one)")
    parser.add_argument("--token", default=os.environ.get("FACESWAP_UI_TOKEN"),
                        help="secret every request must carry (default: $FACESWAP_UI_TOKEN); required with --host")
    parser.add_argument("--max-upload-mb", type=int, default=2048, metavar="MB", help="largest upload accepted (default: 2048)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from faceswap.errors import UserError

    try:
        from faceswap.ui.app import AppConfig
        from faceswap.ui.server import serve
    except ImportError as error:
        raise UserError(f"`faceswap ui` needs the ui extra ({error.name} is missing); install it with "
                        "pip install '.[ui]' (or 'faceswap-studio[ui]').") from None
    if args.max_upload_mb < 1:
        raise UserError(f"--max-upload-mb must be at least 1, not {args.max_upload_mb}.")
    serve(AppConfig(workspace=args.workspace, host=args.host, token=args.token, max_upload_mb=args.max_upload_mb), args.port)
    return 0
