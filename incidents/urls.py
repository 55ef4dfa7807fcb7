"""Browser routes of the incident practice in the agent workspace (/workspace/); its portal pages live in the portal
app."""

from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    # The list, ticket page, comments and transitions are the generic workspace views (incidents/workspace.py
    # declares the practice); only the agent's "new incident" form is the practice's own.
    path("workspace/incidents/new/", views.incident_create, name="incident_create"),
]
