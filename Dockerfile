# The service desk image: one image for web, worker, beat and the one-shot migrate service (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=itsm.settings.production \
    ITSM_VAR_DIR=/app/var \
    MEDIA_ROOT=/var/lib/itsm/media \
    PORT=8000

RUN groupadd --system itsm && useradd --system --gid itsm --home-dir /app --no-create-home itsm

WORKDIR /app
COPY . .
# Editable, so the code runs from /app: settings find templates/ and manage.py relative to the source tree.
RUN pip install -e .

# Static files are part of the image; the dummy key exists only for this step.
RUN SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && mkdir -p /var/lib/itsm/media \
    && chown -R itsm:itsm /app/var /var/lib/itsm

USER itsm
EXPOSE 8000
CMD ["sh", "-c", "exec gunicorn itsm.wsgi:application --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
