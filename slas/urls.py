"""Browser routes of the SLA engine: reports in the agent workspace."""

from django.urls import path

from slas import views

app_name = "slas"

urlpatterns = [
    path("workspace/reports/sla/", views.sla_report, name="sla_report"),
]
