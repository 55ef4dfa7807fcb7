"""Browser routes of the incident practice: the agent workspace (/workspace/) and the self-service portal (/portal/)."""

from django.urls import path

from incidents import portal_views, views
from itsm.workspace import views as ws

app_name = "incidents"

NUMBER = "<str:number>"
INCIDENTS = {"practice": "incidents"}

urlpatterns = [
    # Agent workspace: the generic views of itsm.workspace (incidents/workspace.py declares the practice); these
    # names stay for the links and tests that use them.
    path("workspace/incidents/new/", views.incident_create, name="incident_create"),
    path("workspace/incidents/", ws.ticket_list, INCIDENTS, name="incident_list"),
    path(f"workspace/incidents/{NUMBER}/", ws.ticket_detail, INCIDENTS, name="incident_detail"),
    path(f"workspace/incidents/{NUMBER}/comment/", ws.ticket_comment, INCIDENTS, name="incident_comment"),
    path(
        f"workspace/incidents/{NUMBER}/transition/<slug:name>/",
        ws.ticket_transition,
        INCIDENTS,
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
