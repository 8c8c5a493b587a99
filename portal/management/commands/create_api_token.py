from django.core.management.base import BaseCommand, CommandError

from portal import tokens
from portal.models import User


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--read-only", action="store_true")

    def handle(self, username, name, read_only, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user {username!r}.") from exc
        _token, secret = tokens.api_token_create(user=user, name=name, scopes="read" if read_only else "write")
        self.stdout.write(secret)
