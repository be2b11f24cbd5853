from __future__ import annotations

from django import forms
from django.utils.translation import gettext

from alerts.models import AlertSubscription
from fleet.models import Company
from supervision import tenancy


class AlertSubscriptionForm(forms.ModelForm):
    """A user's own subscription: the company among those they see (their own, or any for a
    superuser); the user is the one signed in."""

    class Meta:
        model = AlertSubscription
        fields = [
            "company",
            "station_offline",
            "offline_minutes",
            "connector_faulted",
            "unknown_vehicle",
            "daily_digest",
            "language",
            "active",
        ]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.user = user
        companies = tenancy.scope(Company.objects.order_by("name"), user)
        self.fields["company"].queryset = companies
        if self.instance.pk is not None:
            self.fields["company"].disabled = True
        elif companies.count() == 1:
            self.fields["company"].initial = companies.get()

    def validate_unique(self) -> None:
        # The model's message names fields the page does not show (user): say it plainly.
        try:
            self.instance.validate_unique()
        except forms.ValidationError:
            self.add_error("company", gettext("You already have a subscription for this company."))
