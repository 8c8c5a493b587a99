import os
import subprocess
import sys

from django.core.management import call_command

from portal.models import BusinessUnit, Product, User


def _counts():
    return (BusinessUnit.objects.count(), Product.objects.count(), User.objects.count())


def test_seed_demo_is_idempotent(db):
    call_command("seed_demo", "--small")
    first = _counts()
    call_command("seed_demo", "--small")
    assert _counts() == first
    assert first[0] == 3 and first[1] == 7  # six products + the internal portal product
    assert Product.objects.get(slug="portal").is_internal
    roles = {r: User.objects.filter(role=r).count() for r in ["pm", "ops_lead", "researcher", "viewer"]}
    assert roles == {"pm": 18, "ops_lead": 3, "researcher": 1, "viewer": 2}  # admin is an ops lead too
    for username in ["pm", "ops", "newpm", "researcher", "viewer", "admin"]:
        assert User.objects.get(username=username).check_password("demo")
    assert User.objects.get(username="admin").is_superuser


def _django_check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_refuse_a_missing_secret_key():
    result = _django_check({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_check_deploy():
    result = _django_check(
        {
            "DEBUG": "0",
            "SECRET_KEY": "x" * 20 + "-production-secret-" + "y" * 20,
            "ALLOWED_HOSTS": "portal.example.com",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_role_groups_get_every_apps_permissions_after_migrate(db):
    from django.contrib.auth.models import Group

    ops = Group.objects.get(name="Ops leads")
    for app_label in ["analytics", "experiments", "tooling", "feedback", "onboarding"]:
        assert ops.permissions.filter(content_type__app_label=app_label, codename__startswith="change_").exists()
    researchers = Group.objects.get(name="Researchers")
    assert researchers.permissions.filter(content_type__app_label="research", codename__startswith="change_").exists()
    assert not Group.objects.get(name="Viewers").permissions.exists()
