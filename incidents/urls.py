"""Browser routes of the incident practice in the agent workspace (/workspace/); its portal pages live in the portal
app."""

from django.urls import path

from incidents import views
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
]
