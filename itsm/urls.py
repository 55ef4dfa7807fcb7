"""Top-level URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from itsm import approval_links, views

handler404 = "itsm.views.page_not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("itsm.api.urls")),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("approvals/link/<str:token>/", approval_links.approval_link, name="approval_link"),
    path("", include("changes.urls")),
    # The portal first: its pages replace the incident-only portal views at the same addresses.
    path("", include("portal.urls")),
    path("", include("itsm.workspace.urls")),
    path("", include("incidents.urls")),
    path("", include("slas.urls")),
]
