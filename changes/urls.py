"""Browser routes of change enablement: the change calendar in the agent workspace."""

from django.urls import path

from changes import views

app_name = "changes"

urlpatterns = [
    path("workspace/change-calendar/", views.change_calendar_page, name="calendar"),
]
