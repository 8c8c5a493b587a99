from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal import roles, schema, signals  # noqa: F401  (receivers, OpenAPI extensions)

        # After every app's migrate (not just portal's): permissions of apps listed after
        # portal only exist once their own post_migrate has run.
        post_migrate.connect(roles.sync_role_groups_after_migrate, dispatch_uid="portal-sync-role-groups")
