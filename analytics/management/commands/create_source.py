"""manage.py create_source NAME --product SLUG [--enforcement allow|quarantine|reject]"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analytics import services
from analytics.models import Source
from portal.models import Product


class Command(BaseCommand):
    help = "Create an event source for a product and print its write key (shown once, stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--product", required=True, help="Product slug")
        parser.add_argument("--enforcement", default="allow", choices=Source.Enforcement.values)

    def handle(self, *args, name, product, enforcement, **options):
        try:
            product_obj = Product.objects.get(slug=product)
        except Product.DoesNotExist:
            slugs = ", ".join(Product.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No product with slug {product!r}; known: {slugs}") from None
        try:
            source, secret = services.source_create(product=product_obj, name=name, enforcement=enforcement)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Source '{source.name}' for {product_obj.name} ({enforcement}). Write key (shown once):")
        self.stdout.write(secret)
