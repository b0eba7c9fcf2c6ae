# syntax=docker/dockerfile:1
# The production image: the Vite build from a Node stage, the Python packages
# from a builder stage, and a slim runtime that holds neither compiler nor npm.
#   docker build -t chat-app .          (docker-compose.yml builds it as `chat-app`)
# It runs Daphne through chat.serve as an unprivileged user; /healthz is its
# health check. Settings come from the environment (.env.example lists them).

# ---- 1. the browser bundle ---------------------------------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY vite.config.js tsconfig.json ./
COPY frontend ./frontend
RUN npm run build

# ---- 2. the Python packages, into a virtualenv the runtime copies ------------
FROM python:3.11-slim-bookworm AS python
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /venv
COPY pyproject.toml ./
COPY backend ./backend
RUN /venv/bin/pip install .

# ---- 3. the runtime ----------------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/venv/bin:$PATH
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin chat
COPY --from=python /venv /venv
WORKDIR /app
COPY backend ./backend
COPY --from=frontend /app/frontend/dist ./frontend/dist
# var/ holds local uploads and anything else the app writes. var/uploads is a
# volume in compose: made here, owned by chat, so a new volume starts as chat's.
RUN mkdir -p /app/var/uploads && chown -R chat:chat /app/var
USER chat
WORKDIR /app/backend
EXPOSE 8000
# Docker sends SIGTERM on stop: the server drains its sockets (close 1012) and
# exits; compose's stop_grace_period leaves it the time to.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
# chat.serve: Daphne with the project's server class (backend/chat/transport.py).
CMD ["python", "-m", "chat.serve", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers"]
