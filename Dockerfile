# Production-shaped image: one image for web (gunicorn), worker and beat (celery).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/data MEDIA_ROOT=/data/media PRIVATE_MEDIA_ROOT=/data/private STATIC_ROOT=/app/staticfiles

# WeasyPrint's libraries and the fonts certificates use (names in any script).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
      fonts-dejavu-core fonts-noto-core fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY consortium ./consortium
COPY programmes ./programmes
COPY admissions ./admissions
COPY assessment ./assessment
COPY certification ./certification
COPY finance ./finance
RUN pip install .
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown -R app /data
USER app
EXPOSE 8000
CMD ["gunicorn", "consortium.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
