from django.db import migrations

from analytics.standard import STANDARD_TEMPLATES


def create_templates(apps, schema_editor):
    DashboardTemplate = apps.get_model("analytics", "DashboardTemplate")
    for t in STANDARD_TEMPLATES:
        DashboardTemplate.objects.get_or_create(
            slug=t["slug"],
            defaults={
                "name": t["name"],
                "description": t["description"],
                "tiles": t["tiles"],
                "position": t["position"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_insights_dashboards")]

    operations = [migrations.RunPython(create_templates, migrations.RunPython.noop)]
