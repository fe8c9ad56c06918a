# The predict service for one registered model version (the same service `mlops-console deploy`
# runs). Build it with the model chosen at build time; the tracking server (or a model directory
# copied into the image with MLOPS_SERVE_MODEL_DIR) is given at run time:
#
#   docker build -t next-week-commits:3 --build-arg MODEL=next-week-commits \
#       --build-arg VERSION=3 --build-arg ALIAS=champion .
#   docker run -p 8080:8080 -e MLOPS_SERVE_TRACKING_URI=http://mlflow:5000 next-week-commits:3
#
# The entry point is the module invocation `deploy` uses (tests/serve/test_dockerfile.py checks
# it); every option `deploy` passes comes from an MLOPS_SERVE_* variable here.
FROM python:3.11-slim

ARG MODEL
ARG VERSION
ARG ALIAS=""
ARG NAME=""

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT=true \
    MLOPS_SERVE_MODEL=${MODEL} \
    MLOPS_SERVE_VERSION=${VERSION} \
    MLOPS_SERVE_ALIAS=${ALIAS} \
    MLOPS_SERVE_NAME=${NAME} \
    MLOPS_SERVE_HOST=0.0.0.0 \
    MLOPS_SERVE_PORT=8080 \
    MLOPS_SERVE_HOME=/srv/home

WORKDIR /srv/app
RUN pip install --no-cache-dir uv
COPY pyproject.toml uv.lock README.md ./
COPY console ./console
COPY commands ./commands
COPY widgets ./widgets
RUN uv sync --frozen --no-dev && useradd --create-home --uid 10001 serve \
    && mkdir -p /srv/home && chown serve /srv/home
ENV PATH="/srv/app/.venv/bin:${PATH}"
USER serve
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/ping').status != 200)"

ENTRYPOINT ["python", "-m", "commands.serve"]
