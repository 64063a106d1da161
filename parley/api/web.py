"""The built front end (web/dist), served at "/" with the single-page-app fallback: any GET
that is not an API route or an asset answers index.html, and React Router takes it from there."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from parley.errors import ErrorCode, Refused

DEFAULT_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


def mount_web(app: FastAPI, dist: Path) -> None:
    index = dist / "index.html"
    if not index.is_file():
        return
    assets = dist / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")
    root = dist.resolve()
    router = APIRouter(include_in_schema=False)

    @router.get("/{path:path}")
    def spa(path: str) -> FileResponse:  # sync: FastAPI runs it in a thread (file lookups)
        if path.startswith(("api/", "socket.io")):
            raise Refused(ErrorCode.NOT_FOUND, "Not Found")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate)
        return FileResponse(index, headers={"cache-control": "no-cache"})

    app.include_router(router)
