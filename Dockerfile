# Production-shaped image: gunicorn web, Celery worker and beat all run from it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY . .
RUN pip install --upgrade pip && pip install . && useradd --create-home portal && mkdir -p /app/staticfiles && chown -R portal /app
USER portal
RUN DEBUG=1 DATABASE_URL=postgres://build@127.0.0.1:1/none REDIS_URL=redis://127.0.0.1:1 \
    python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "-b", "0.0.0.0:8000", "-w", "4", "--threads", "4", "--access-logfile", "-"]
