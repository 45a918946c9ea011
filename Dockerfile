# The portal's one image: web (gunicorn), Celery worker and Celery beat all run from it (docker-compose.yml).
FROM python:3.11-slim

# settings.py derives BASE_DIR (templates/, static/, locale/) from where its package is imported from,
# so PYTHONPATH makes the source tree in /app win over the copy pip installs into site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=practice_center.settings \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/var/media \
    PROTECTED_MEDIA_ROOT=/app/var/protected \
    STATIC_MANIFEST=true

WORKDIR /app

# The CJK TrueType font embedded in service certificates (CERTIFICATE_FONT_PATH).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, in a layer of their own that only a change of pyproject.toml rebuilds:
# with no package directories copied yet, `pip install .` installs just the dependencies.
COPY pyproject.toml ./
RUN pip install . && rm -rf build *.egg-info

# The project: manage.py, the packages, templates/, static/ and locale/ (.dockerignore lets in nothing else).
COPY . .
RUN pip install --no-deps . && rm -rf build *.egg-info

# Hashed, compressed static files, built into the image; the key only lets settings load.
RUN SECRET_KEY=collectstatic-only-not-a-secret ID_NUMBER_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXNlY3JldCE= \
    ID_NUMBER_HASH_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput \
    && rm -rf /app/var \
    && useradd --system --create-home --home-dir /home/app --uid 10001 --user-group app \
    && mkdir -p /app/var/media /app/var/protected /app/var/celery \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

CMD ["gunicorn", "practice_center.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--timeout", "60", "--access-logfile", "-"]
