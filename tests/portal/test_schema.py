from pathlib import Path

from django.core.management import call_command


def test_openapi_schema_validates(tmp_path: Path, db):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "openapi: 3" in target.read_text()


def test_schema_and_docs_are_served(pm_client):
    assert pm_client.get("/api/schema/").status_code == 200
    docs = pm_client.get("/api/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()
