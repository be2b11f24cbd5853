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
        # With the user, which the form does not show (the model's message would name it).
        try:
            self.instance.validate_constraints()
        except forms.ValidationError:
            self.add_error("company", gettext("You already have a subscription for this company."))
