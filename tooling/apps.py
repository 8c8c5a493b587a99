from django.apps import AppConfig


class ToolingConfig(AppConfig):
    name = "tooling"
    verbose_name = "Tooling"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal import roles

        # portal syncs role groups on its own post_migrate, which runs before this app's
        # permissions exist on a fresh database; sync again once they do.
        post_migrate.connect(roles.sync_role_groups_after_migrate, sender=self, dispatch_uid="tooling-sync-roles")
