# The portal's image: one portal process (deploy/serve.sh, as `make run-scaled` starts each
# of its processes), or with another command the jobs worker (deploy/jobs.sh) or the
# deployment's preparation (deploy/prepare.sh). See compose.yaml and README, "Running in
# production".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app portal

# The dependencies first: a change of the code alone does not reinstall them.
COPY requirements.txt .
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements.txt

COPY . .
# The static files, collected into the image (the portal serves them itself: WhiteNoise).
RUN DJANGO_SECRET_KEY=image-build-only .venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R portal:portal /app/staticfiles

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD [".venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=4)"]
ENTRYPOINT ["deploy/serve.sh"]
