"""The dashboards' figures as JSON (/api/v1/dashboards/agent/, /api/v1/dashboards/team/?team=&days=): the same
functions the workspace pages chart."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm.api.tickets import AgentsOnlyElseNotFound
from itsm.workspace.dashboards import agent_dashboard, team_dashboard
from itsm.workspace.views import dashboard_days, dashboard_teams


class AgentDashboardView(APIView):
    """My open tickets by priority, SLA clocks due within four hours, breached clocks."""

    permission_classes = [AgentsOnlyElseNotFound]

    @extend_schema(responses=dict, summary="The agent dashboard's figures")
    def get(self, request: Request) -> Response:
        return Response(agent_dashboard(user=request.user))


class TeamDashboardView(APIView):
    """Backlog by age, created vs resolved per day, MTTR, SLA compliance by team and priority, reopen rate."""

    permission_classes = [AgentsOnlyElseNotFound]

    @extend_schema(
        parameters=[
            OpenApiParameter("team", int, description="A team id; default: the teams I manage, else mine."),
            OpenApiParameter("days", int, description="Window: 7, 14, 30 or 90 days (default 14)."),
        ],
        responses=dict,
        summary="The team dashboard's figures",
    )
    def get(self, request: Request) -> Response:
        team_ids, _teams = dashboard_teams(request._request)
        return Response(team_dashboard(team_ids=team_ids, days=dashboard_days(request._request)))
