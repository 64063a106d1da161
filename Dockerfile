# syntax=docker/dockerfile:1
# Parley's real-time tier: `parley serve` (FastAPI + Socket.IO) for ECS Fargate, built from the
# repository's own package. The front end is served from S3 in production, so no Node here.
#
#   docker build -t parley .                                   # host architecture
#   docker build --platform linux/arm64 -t parley .            # for ContainerArchitecture=ARM64
#   docker run --rm -p 8000:8000 -e PARLEY_REDIS_URL=... parley
# The Python the tests and benchmarks run on, as the Lambdas (infra/template.yaml).
ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: the package as a wheel, installed with its dependencies into /opt/venv ----------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
# README.md, LICENSE and constraints.txt are optional (the wildcards may match nothing).
COPY pyproject.toml README.md* LICENSE* constraints.txt* ./
COPY parley ./parley
RUN python -m pip wheel --no-deps --wheel-dir /dist . \
 && python -m venv /opt/venv \
 && if [ -f constraints.txt ]; then set -- --constraint constraints.txt; fi \
 && /opt/venv/bin/pip install "$@" "$(ls /dist/parley-*.whl)[aws]" \
 && /opt/venv/bin/parley --help > /dev/null

# ---- runtime: the venv alone, run as an unprivileged user --------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --home-dir /home/parley --create-home \
    --shell /usr/sbin/nologin parley
# Same base image and same path as in the build stage, so the venv's interpreter links hold.
COPY --from=build /opt/venv /opt/venv
WORKDIR /home/parley
USER 10001:10001
EXPOSE 8000
# No curl in the slim image: ask /healthz with the standard library (any error = unhealthy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["parley", "serve", "--host", "0.0.0.0", "--port", "8000"]
