"""Browser routes of the incident practice: the agent workspace (/workspace/) and the self-service portal (/portal/)."""

from django.urls import path
from django.views.generic import RedirectView

from incidents import portal_views, views

app_name = "incidents"

NUMBER = "<str:number>"

urlpatterns = [
    # Agent workspace
    path(
        "workspace/",
        RedirectView.as_view(url="/workspace/incidents/?active=true", permanent=False),
        name="workspace_home",
    ),
    path("workspace/incidents/", views.incident_list, name="incident_list"),
    path("workspace/incidents/new/", views.incident_create, name="incident_create"),
    path(f"workspace/incidents/{NUMBER}/", views.incident_detail, name="incident_detail"),
    path(f"workspace/incidents/{NUMBER}/comment/", views.incident_comment, name="incident_comment"),
    path(
        f"workspace/incidents/{NUMBER}/transition/<slug:name>/",
        views.incident_transition,
        name="incident_transition",
    ),
    # Self-service portal
    path("portal/", portal_views.portal_home, name="portal_home"),
    path("portal/report/", portal_views.portal_report, name="portal_report"),
    path(f"portal/incidents/{NUMBER}/", portal_views.portal_incident_detail, name="portal_incident_detail"),
    path(f"portal/incidents/{NUMBER}/comment/", portal_views.portal_comment, name="portal_comment"),
    path(f"portal/incidents/{NUMBER}/accept/", portal_views.portal_accept, name="portal_accept"),
    path(f"portal/incidents/{NUMBER}/reopen/", portal_views.portal_reopen, name="portal_reopen"),
]
