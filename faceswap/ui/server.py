"""Start the app with uvicorn on a socket bound here, so that ``--port 0`` prints the port it got."""
from __future__ import annotations

import socket
import sys

from faceswap.errors import UserError
from faceswap.ui.app import AppConfig, create_app
from faceswap.ui.security import LOOPBACK_HOSTS

MIN_TOKEN_LENGTH = 16


def check_access(host: str, token: str | None) -> None:
    """Listening beyond this machine is a choice (--host) and needs a token that others cannot guess."""
    if host not in LOOPBACK_HOSTS and not token:
        raise UserError(f"--host {host} lets other machines reach the page; pass --token SECRET too "
                        f"(at least {MIN_TOKEN_LENGTH} characters, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe())'`).")
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise UserError(f"The --token is {len(token)} characters long; use at least {MIN_TOKEN_LENGTH} random ones.")


def serve(config: AppConfig, port: int) -> None:
    import uvicorn

    check_access(config.host, config.token)
    app = create_app(config)
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, port))
    except OSError as error:
        raise UserError(f"Cannot listen on {config.host}:{port} ({error.strerror}); choose another --port (0: any free one).") from error
    bound_port = sock.getsockname()[1]
    shown_host = f"[{config.host}]" if ":" in config.host else config.host
    query = f"?token={config.token}" if config.token else ""
    print(f"faceswap ui: http://{shown_host}:{bound_port}/{query} (workspace {config.workspace}; Ctrl-C stops the "
          "server, not the jobs)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
    sys.stdout.flush()
