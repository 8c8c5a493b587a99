from __future__ import annotations

from django import forms
from django.utils import timezone

from portal.models import Role, User


class EnrollForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Who", required=False)
    start_on = forms.DateField(label="Start date", widget=forms.DateInput(attrs={"type": "date"}))
    buddy = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.PM, is_active=True), required=False, label="Buddy"
    )
    manager = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).exclude(role=Role.VIEWER),
        required=False,
        label="Manager",
        help_text="Defaults to the person's manager",
    )

    def __init__(self, *args, by: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by
        if by.is_ops_lead:
            people = User.objects.filter(is_active=True).exclude(role=Role.VIEWER)
        else:
            people = User.objects.filter(pk=by.pk) | User.objects.filter(manager=by)
        self.fields["user"].queryset = people.order_by("first_name", "username")
        self.fields["user"].help_text = "Leave empty to enroll yourself"
        self.fields["start_on"].initial = timezone.localdate()
        for name in ("user", "buddy", "manager"):
            self.fields[name].label_from_instance = lambda u: f"{u.display_name} ({u.username})"

    def clean_user(self):
        return self.cleaned_data.get("user") or self.by


class VoteForm(forms.Form):
    useful = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda v: v == "yes", label="Was this useful?"
    )
    comment = forms.CharField(max_length=300, required=False, label="What was missing? (optional)")
