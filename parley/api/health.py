"""Liveness and readiness probes, and the Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from parley.api.deps import ServicesDep
from parley.api.errors import problem_response
from parley.api.schemas import NotReady
from parley.errors import UNAVAILABLE_RETRY_SECONDS, ErrorCode, Problem

router = APIRouter(tags=["health"])

_PROBE_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/metrics", include_in_schema=False)
async def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class Ready(BaseModel):
    status: str


@router.get("/readyz", response_model=Ready, responses={503: {"model": NotReady}})
async def readyz(services: ServicesDep) -> JSONResponse:
    checks = {
        "redis": services.redis.ping(),
        "dynamodb": services.dynamo.describe_table(TableName=services.tables.messages),
    }
    failed = []
    for name, probe in checks.items():
        try:
            await asyncio.wait_for(probe, _PROBE_TIMEOUT_SECONDS)
        except Exception:
            failed.append(name)
    if failed:
        names = " and ".join(failed)
        problem = Problem(
            ErrorCode.UNAVAILABLE, f"{names} not answering", UNAVAILABLE_RETRY_SECONDS
        )
        return problem_response(problem, failed=failed)
    return JSONResponse({"status": "ready"})
