# mailbot: the worker image. Data (SQLite database, demo folders) lives in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MAILBOT_DATABASE_URL=sqlite:////data/mailbot.db

WORKDIR /src
COPY pyproject.toml README.md ./
COPY mailbot ./mailbot
COPY rules ./rules
COPY db ./db
RUN pip install '.[postgres]' \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin mailbot \
    && mkdir -p /data && chown mailbot /data \
    && rm -rf /src

USER mailbot
WORKDIR /data
VOLUME ["/data"]

CMD ["mailbot", "run"]
