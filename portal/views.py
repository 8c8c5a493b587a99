"""Shell pages: home, profile (timezone, API tokens), inbox."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal import selectors, tokens
from portal.models import Product


def profile(request):
    user = request.user
    new_secret = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "timezone":
            tz = request.POST.get("timezone", "")
            if tz in zoneinfo.available_timezones():
                user.timezone = tz
                user.save(update_fields=["timezone"])
                messages.success(request, f"Times are now shown in {tz}.")
            else:
                messages.error(request, f"Unknown timezone {tz!r}.")
        elif action == "token":
            name = request.POST.get("name", "").strip()
            if not name:
                messages.error(request, "Give the token a name so you can recognise it later.")
            else:
                scopes = "read" if request.POST.get("scopes") == "read" or user.is_viewer else "write"
                _, new_secret = tokens.api_token_create(user=user, name=name[:80], scopes=scopes)
        if new_secret is None:
            return redirect("profile")
    context = {
        "tokens": selectors.api_token_list(user=user),
        "new_secret": new_secret,
        "timezones": sorted(zoneinfo.available_timezones()),
        "products": Product.objects.filter(members=user).select_related("unit"),
    }
    return render(request, "portal/profile.html", context)


@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(selectors.api_token_list(user=request.user), pk=pk)
    tokens.api_token_revoke(token=token, by=request.user)
    messages.success(request, f"Token “{token.name}” revoked; clients using it now get 401.")
    return redirect("profile")


def inbox(request):
    notes = selectors.notification_list(user=request.user)[:100]
    if request.method == "POST":
        selectors.notification_list(user=request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("inbox")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "portal/inbox.html", {"notifications": notes})


def notification_prefs(request):
    """Per-kind choice of in-app and email delivery."""
    from portal.models import NotificationPreference
    from portal.services import NOTIFICATION_KINDS, notification_preferences_set

    if request.method == "POST":
        choices = {
            kind: (f"{kind}:in_app" in request.POST, f"{kind}:email" in request.POST) for kind in NOTIFICATION_KINDS
        }
        notification_preferences_set(user=request.user, choices=choices)
        messages.success(request, "Notification preferences saved.")
        return redirect("notification-prefs")
    prefs = {p.kind: p for p in NotificationPreference.objects.filter(user=request.user)}
    rows = [
        {
            "kind": kind,
            "label": label,
            "in_app": prefs[kind].in_app if kind in prefs else True,
            "email": prefs[kind].email if kind in prefs else True,
        }
        for kind, label in NOTIFICATION_KINDS.items()
    ]
    return render(request, "portal/notification_prefs.html", {"rows": rows})


def favicon(request):
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))
