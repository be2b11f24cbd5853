"""The "My alerts" page: each staff user's own subscriptions, written through the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView, View

from alerts import selectors, services
from alerts.forms import AlertSubscriptionForm


class StaffOnly(UserPassesTestMixin):
    """Signed-in active staff, as every portal page (others go to the portal's login)."""

    login_url = reverse_lazy("portal:login")

    def test_func(self) -> bool:
        user = self.request.user
        return user.is_authenticated and user.is_active and user.is_staff


class MyAlertsView(StaffOnly, TemplateView):
    template_name = "alerts/my_alerts.html"
    extra_context = {"section": "alerts"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            subscriptions=selectors.subscriptions_of(user=self.request.user), **kwargs
        )


class SubscriptionFormView(StaffOnly, FormView):
    template_name = "alerts/subscription_form.html"
    form_class = AlertSubscriptionForm
    extra_context = {"section": "alerts"}
    success_url = reverse_lazy("alerts:mine")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        if "pk" in self.kwargs:
            kwargs["instance"] = get_object_or_404(
                selectors.subscriptions_of(user=self.request.user), pk=self.kwargs["pk"]
            )
        else:  # the page's language for the mails, unless the user chooses another
            kwargs["initial"] = {"language": translation.get_language()[:2]}
        return kwargs

    def form_valid(self, form):
        services.alert_subscription_save(subscription=form.instance)
        messages.success(self.request, _("Your alerts were saved."))
        return super().form_valid(form)


class SubscriptionDeleteView(StaffOnly, View):
    def post(self, request, pk: int):
        subscription = get_object_or_404(selectors.subscriptions_of(user=request.user), pk=pk)
        services.alert_subscription_delete(subscription=subscription)
        messages.success(request, _("The subscription was deleted."))
        return redirect("alerts:mine")
