from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("stations/", views.StationListView.as_view(), name="station-list"),
    path("stations/<int:pk>/", views.StationDetailView.as_view(), name="station-detail"),
    path("sites/", views.SiteListView.as_view(), name="site-list"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site"),
    path("vehicles/", views.VehicleListView.as_view(), name="vehicle-list"),
    path("vehicles/<int:pk>/", views.VehicleDetailView.as_view(), name="vehicle-detail"),
    path("sessions/", views.SessionListView.as_view(), name="session-list"),
    path("refusals/", views.RefusalListView.as_view(), name="refusal-list"),
    path("reports/", views.ReportView.as_view(), name="report"),
    path("reports/statement/", views.StatementView.as_view(), name="statement"),
    re_path(
        r"^reports/statement/download\.(?P<extension>csv|xlsx|pdf)$",
        views.StatementDownloadView.as_view(),
        name="statement-download",
    ),
    re_path(
        r"^reports/download\.(?P<extension>csv|xlsx)$",
        views.ReportDownloadView.as_view(),
        name="report-download",
    ),
]
