from celery import shared_task


@shared_task(name="portal.ping")
def ping(value: str) -> str:
    """Round-trip check used by /healthz and the tests: echoes into the cache."""
    from django.core.cache import cache

    cache.set(f"ping:{value}", "pong", timeout=60)
    return "pong"
