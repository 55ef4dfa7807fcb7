"""Routes of the generic agent workspace (/workspace/...), one set for every registered practice."""

from django.urls import path, register_converter

from itsm.workspace import views


class TicketNumberConverter:
    """A ticket number (INC0001001, RITM0001001): so /workspace/<practice>/new/ and friends stay free."""

    regex = "[A-Za-z]{2,8}[0-9]{1,12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TicketNumberConverter, "ticketnumber")

app_name = "workspace"

P = "<slug:practice>"
NUMBER = "<ticketnumber:number>"

urlpatterns = [
    path("workspace/", views.workspace_home, name="home"),
    path(f"workspace/t/{NUMBER}/", views.ticket_goto, name="goto"),
    path("workspace/search/", views.workspace_search, name="search"),
    path("workspace/dashboard/", views.agent_dashboard_view, name="dashboard"),
    path("workspace/dashboard/team/", views.team_dashboard_view, name="team_dashboard"),
    path(f"workspace/{P}/", views.ticket_list, name="list"),
    path(f"workspace/{P}/export.csv", views.ticket_export, name="export"),
    path(f"workspace/{P}/bulk/", views.ticket_bulk, name="bulk"),
    path(f"workspace/{P}/filters/", views.saved_filter_save, name="filter_save"),
    path(f"workspace/{P}/filters/<int:pk>/delete/", views.saved_filter_delete, name="filter_delete"),
    path(f"workspace/{P}/{NUMBER}/", views.ticket_detail, name="detail"),
    path(f"workspace/{P}/{NUMBER}/comment/", views.ticket_comment, name="comment"),
    path(f"workspace/{P}/{NUMBER}/attach/", views.ticket_attach, name="attach"),
    path(f"workspace/{P}/{NUMBER}/transition/<slug:name>/", views.ticket_transition, name="transition"),
    path(f"workspace/{P}/{NUMBER}/watchers/", views.ticket_watchers, name="watchers"),
    path(f"workspace/{P}/{NUMBER}/suggestion/", views.ticket_suggestion, name="suggestion"),
]
