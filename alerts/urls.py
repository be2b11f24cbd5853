from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.MyAlertsView.as_view(), name="mine"),
    path("new/", views.SubscriptionFormView.as_view(), name="subscription-add"),
    path("<int:pk>/", views.SubscriptionFormView.as_view(), name="subscription"),
    path("<int:pk>/delete/", views.SubscriptionDeleteView.as_view(), name="subscription-delete"),
]
