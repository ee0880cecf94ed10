"""The FastAPI app: the page, its JSON API and the workspace's files. Errors are one sentence as JSON."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from faceswap.errors import UserError
from faceswap.ui import commands, views
from faceswap.ui.jobs import JobStore
from faceswap.ui.security import Access, guard
from faceswap.ui.uploads import UPLOAD_DIR, save_upload, upload_name
from faceswap.ui.workspace import Workspace

STATIC = resources.files("faceswap.ui") / "static"


@dataclass(frozen=True)
class AppConfig:
    workspace: str
    host: str = "127.0.0.1"
    token: str | None = None
    max_upload_mb: int = 2048


class FacesChange(BaseModel):
    folder: str
    names: list[str] = []
    all: bool = False


def create_app(config: AppConfig) -> FastAPI:
    workspace = Workspace.open(config.workspace)
    jobs = JobStore(workspace)
    access = Access(config.host, config.token)
    app = FastAPI(title="faceswap", docs_url=None, redoc_url=None, openapi_url=None)
    app.middleware("http")(lambda request, call_next: guard(request, call_next, access))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    _add_error_handlers(app)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return (STATIC / "index.html").read_text()

    @app.get("/api/overview")
    def overview() -> dict:
        return {**views.overview(workspace), "jobs": jobs.list(), "max_upload_mb": config.max_upload_mb}

    @app.put("/api/upload")
    async def upload(request: Request, name: str) -> dict:
        target = workspace.resolve(f"{UPLOAD_DIR}/{upload_name(name)}")
        declared = int(request.headers.get("content-length") or 0)
        limit = config.max_upload_mb * 2**20
        if declared > limit:
            raise UserError(f"'{target.name}' is larger than the upload limit of {config.max_upload_mb} MiB; copy it "
                            "into the workspace folder instead, or start `faceswap ui` with a larger --max-upload-mb.")
        size = await save_upload(request.stream(), target, limit)
        return {"path": workspace.relative(target), "bytes": size}

    @app.get("/api/faces")
    def faces(folder: str) -> dict:
        return views.faces_of(workspace, folder)

    @app.post("/api/faces/remove")
    def remove(change: FacesChange) -> dict:
        from faceswap.curate import remove_faces

        if not change.names:
            raise UserError("Select the faces to remove first (click them in the gallery).")
        result = remove_faces(commands._faces_folder(workspace, change.folder), change.names)
        return {"changed": list(result.changed), "listed": result.listed, "trashed": result.trashed}

    @app.post("/api/faces/restore")
    def restore(change: FacesChange) -> dict:
        from faceswap.curate import restore_faces

        result = restore_faces(commands._faces_folder(workspace, change.folder), None if change.all else change.names)
        return {"changed": list(result.changed), "listed": result.listed, "trashed": result.trashed}

    @app.get("/api/training")
    def training(model: str) -> dict:
        return views.training_status(workspace, model)

    @app.get("/api/pictures")
    def pictures(folder: str) -> list[str]:
        return views.pictures(workspace, folder)

    @app.post("/api/jobs/extract")
    def start_extract(request: commands.ExtractRequest) -> dict:
        return jobs.start("extract", *commands.extract_command(request, workspace))

    @app.post("/api/jobs/train")
    def start_train(request: commands.TrainRequest) -> dict:
        command = commands.train_command(request, workspace)
        if any(job["outputs"].get("model") == command[3]["model"] for job in jobs.active("train")):
            raise UserError(f"A training into '{request.model}' is already running; stop it first or pick another model folder.")
        return jobs.start("train", *command)

    @app.post("/api/jobs/convert")
    def start_convert(request: commands.ConvertRequest) -> dict:
        return jobs.start("convert", *commands.convert_command(request, workspace))

    @app.post("/api/jobs/evaluate")
    def start_evaluate(request: commands.EvaluateRequest) -> dict:
        return jobs.start("evaluate", *commands.evaluate_command(request, workspace))

    @app.post("/api/jobs/classify")
    def start_classify(request: commands.ClassifyRequest) -> dict:
        return jobs.start("classify", *commands.classify_command(request, workspace))

    @app.get("/api/jobs")
    def job_list() -> list[dict]:
        return jobs.list()

    @app.get("/api/jobs/{job_id}/log")
    def job_log(job_id: str) -> dict:
        return {"lines": jobs.log(job_id)}

    @app.post("/api/jobs/{job_id}/stop")
    def job_stop(job_id: str) -> dict:
        return jobs.stop(job_id)

    @app.post("/api/convert/preview")
    async def preview(request: commands.PreviewRequest) -> dict:
        from faceswap.ui.preview import convert_preview

        return await run_in_threadpool(convert_preview, request, workspace)

    @app.get("/files/{relative:path}")
    def file(relative: str) -> FileResponse:
        path = workspace.resolve(relative, must_exist=True)
        if not path.is_file():
            raise UserError(f"'{relative}' is a folder, not a file; choose a file of the workspace.")
        return FileResponse(path, headers={"Cache-Control": "no-store"})

    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, error: UserError) -> JSONResponse:
        status = 413 if "upload limit" in str(error) else 400
        return JSONResponse({"error": str(error)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or "the request"
        return JSONResponse({"error": f"The field '{field}' is not valid ({first.get('msg', 'invalid')}); correct it and try again."},
                            status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"error": f"The server could not do that ({type(error).__name__}: {error}); "
                                      "the page stays usable, and the server's terminal shows the details."}, status_code=500)
