# The bots in a small image: the project installed from its own files into a virtualenv,
# run as an unprivileged user. flows/, knowledge/ and locales/ are copied in as defaults and
# meant to be mounted over (compose.yaml does), so organisers' saved edits go live.
# Build and run: see README.md ("Running it for real") and docs/operations.md.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bots ./bots
RUN python -m venv /opt/bots \
    && /opt/bots/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && find /opt/bots -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
ENV PATH=/opt/bots/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PTB_TIMEDELTA=true \
    BOTS_DB=/var/lib/bots/bots.db
RUN groupadd --system --gid 10001 bots \
    && useradd --system --uid 10001 --gid bots --home-dir /var/lib/bots --shell /usr/sbin/nologin bots \
    && install -d -o bots -g bots -m 0700 /var/lib/bots
COPY --from=build /opt/bots /opt/bots
COPY flows /srv/bots/flows
COPY knowledge /srv/bots/knowledge
COPY locales /srv/bots/locales
WORKDIR /srv/bots
USER bots
# the SQLite database when BOTS_DATABASE_URL is not set (compose.yaml sets it: PostgreSQL)
VOLUME ["/var/lib/bots"]
# 9100: /healthz and /metrics (publish it on the host's loopback only); 8443: the webhook
EXPOSE 9100 8443
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=8)"]
ENTRYPOINT ["bots", "--project", "/srv/bots"]
# --admin-public: inside the container the address must be 0.0.0.0 for the published port to
# reach it; compose.yaml publishes it on the host's 127.0.0.1 only
CMD ["-v", "run", "--admin", "0.0.0.0:9100", "--admin-public", "--log-format", "json"]
