# Convene application image: one app process per container; PostgreSQL and Redis run beside it.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# DejaVu fonts for the report-back PDFs (Typst typesets them); curl serves the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 convene
WORKDIR /srv/convene

COPY pyproject.toml README.md ./
COPY app ./app
# Editable, so that `convene` (the console script) and uvicorn both import the app from
# /srv/convene, where alembic.ini, the migrations, the templates and the catalogs live.
RUN pip install -e .

COPY alembic.ini ./
COPY migrations ./migrations
COPY frontend ./frontend

USER convene
ENV ENVIRONMENT=production PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1

# Migrations run once, before the app processes start (`convene migrate`, see docker-compose.yml).
# Client addresses (rate limits, logs) are taken from X-Forwarded-For only when the request
# comes from FORWARDED_ALLOW_IPS: set it to the reverse proxy's address. Long polls (25 s) and
# websockets get 30 s to finish on SIGTERM; websockets are told to reconnect (close 1012).
ENV FORWARDED_ALLOW_IPS=127.0.0.1
CMD ["sh", "-c", "exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port ${PORT} --proxy-headers --forwarded-allow-ips=\"${FORWARDED_ALLOW_IPS}\" --timeout-graceful-shutdown 30 --no-access-log"]
