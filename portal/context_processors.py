from django.conf import settings

NAVIGATION = [
    ("analytics", "Analytics", "Dashboards, tracking plan, data quality"),
    ("experiments", "Experiments", "A/B tests and what we learned"),
    ("research", "Research", "Panel, studies, insights"),
    ("tooling", "Tooling", "Templates, documents, roadmaps, launches"),
    ("feedback", "Feedback", "Customer signal and themes"),
    ("onboarding", "Onboarding", "Tracks and knowledge base"),
]


def portal(request):
    section = ""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace:
        section = match.namespace.split(":")[0]
    unread = 0
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        unread = request.user.notifications.filter(read_at__isnull=True).count()
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "NAVIGATION": NAVIGATION,
        "current_section": section,
        "unread_notifications": unread,
    }
