"""The standard dashboards every product gets (ops leads edit them in the admin).

Placeholders in specs are resolved per product when a tile is computed:
"$key_funnel" → events tagged funnel:1, funnel:2… (ordered); "$feature_events" → events tagged
"feature"; "$top_event" → the product's most frequent event.
"""

from __future__ import annotations

STANDARD_TEMPLATES = [
    {
        "slug": "product-health",
        "name": "Product health",
        "description": "Active users, stickiness, retention, top events and the key funnel.",
        "position": 0,
        "tiles": [
            {"title": "Active users (DAU, WAU, MAU)", "spec": {"type": "active_users"}, "width": 2},
            {"title": "Stickiness (DAU / MAU)", "spec": {"type": "active_users", "show": "stickiness"}, "width": 1},
            {"title": "Top events", "spec": {"type": "top_events", "limit": 10}, "width": 1},
            {
                "title": "Weekly retention",
                "spec": {"type": "retention", "period": "week", "periods": 8, "date_from": "-63d"},
                "width": 2,
            },
            {"title": "Key funnel", "spec": {"type": "funnel", "steps": "$key_funnel", "window_days": 7}, "width": 2},
        ],
    },
    {
        "slug": "feature-adoption",
        "name": "Feature adoption",
        "description": "Who uses which feature, week by week.",
        "position": 1,
        "tiles": [
            {
                "title": "Weekly users per feature",
                "spec": {
                    "type": "trends",
                    "events": "$feature_events",
                    "math": "uniques",
                    "interval": "week",
                    "date_from": "-84d",
                },
                "width": 2,
            },
            {
                "title": "Daily feature events",
                "spec": {"type": "trends", "events": "$feature_events", "math": "count", "interval": "day"},
                "width": 2,
            },
        ],
    },
    {
        "slug": "data-quality",
        "name": "Data quality",
        "description": "How much of the traffic conforms to the tracking plan, and what breaks it.",
        "position": 2,
        "tiles": [
            {"title": "Events by conformance", "spec": {"type": "quality"}, "width": 2},
            {"title": "Top violations", "spec": {"type": "violations", "limit": 10}, "width": 2},
        ],
    },
]
