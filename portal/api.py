"""Portal's own API: who am I, products, personal tokens."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from portal import selectors
from portal.models import Product, User


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "role", "timezone"]


class ProductSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    markets = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    pm_owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "slug", "description", "unit", "markets", "pm_owner"]


@extend_schema(responses=UserSerializer)
@api_view(["GET"])
def me(request):
    return Response(UserSerializer(request.user).data)


class ProductList(generics.ListAPIView):
    serializer_class = ProductSerializer

    def get_queryset(self):
        return selectors.product_list()


urlpatterns = [
    path("me", me, name="api-me"),
    path("products", ProductList.as_view(), name="api-products"),
]
