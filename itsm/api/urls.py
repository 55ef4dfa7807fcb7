"""API routes: /api/v1/..., the OpenAPI schema and the interactive docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from automation.api.views import (
    CategorySuggestionViewSet,
    CategoryViewSet,
    DryRunView,
    InitiativeViewSet,
    TrainingRunViewSet,
    TrendView,
)
from catalog.api.views import CatalogItemViewSet, ConfigurationItemViewSet, ServiceViewSet
from changes.api.views import ChangeTaskViewSet, ChangeTemplateViewSet, ChangeViewSet, RiskQuestionViewSet
from incidents.api.views import CloseCodeViewSet, HoldReasonViewSet, IncidentViewSet
from itsm.api.docs import SwaggerDocsView
from itsm.api.views import ApprovalViewSet, AttachmentViewSet, TeamViewSet, TokenView
from itsm.workspace.api import AgentDashboardView, TeamDashboardView
from mail.api.views import NotificationPreferenceView
from problems.api.views import KnowledgeArticleViewSet, ProblemTaskViewSet, ProblemViewSet
from requests_app.api.views import FulfilmentTaskViewSet, RequestedItemViewSet, RequestViewSet, UploadViewSet
from slas.api.views import ScheduleViewSet, SLADefinitionViewSet, SLAReportViewSet
from webhooks.api.views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = DefaultRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("hold-reasons", HoldReasonViewSet, basename="hold-reason")
router.register("close-codes", CloseCodeViewSet, basename="close-code")
router.register("problems", ProblemViewSet, basename="problem")
router.register("problem-tasks", ProblemTaskViewSet, basename="problem-task")
router.register("knowledge-articles", KnowledgeArticleViewSet, basename="knowledge-article")
router.register("changes", ChangeViewSet, basename="change")
router.register("change-tasks", ChangeTaskViewSet, basename="change-task")
router.register("change-templates", ChangeTemplateViewSet, basename="change-template")
router.register("risk-questions", RiskQuestionViewSet, basename="risk-question")
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("teams", TeamViewSet, basename="team")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("sla-definitions", SLADefinitionViewSet, basename="sla-definition")
router.register("sla-reports", SLAReportViewSet, basename="sla-report")
router.register("services", ServiceViewSet, basename="service")
router.register("configuration-items", ConfigurationItemViewSet, basename="configuration-item")
router.register("catalog-items", CatalogItemViewSet, basename="catalog-item")
router.register("requests", RequestViewSet, basename="request")
router.register("requested-items", RequestedItemViewSet, basename="requested-item")
router.register("fulfilment-tasks", FulfilmentTaskViewSet, basename="fulfilment-task")
router.register("uploads", UploadViewSet, basename="upload")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("categories", CategoryViewSet, basename="category")
router.register("automation/category-suggestions", CategorySuggestionViewSet, basename="category-suggestion")
router.register("automation/categoriser-trainings", TrainingRunViewSet, basename="categoriser-training")
router.register("automation/initiatives", InitiativeViewSet, basename="initiative")

urlpatterns = [
    path("v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("v1/notification-preferences/", NotificationPreferenceView.as_view(), name="api-notification-preferences"),
    path("v1/automation/dry-run/", DryRunView.as_view(), name="api-automation-dry-run"),
    path("v1/automation/trends/", TrendView.as_view(), name="api-automation-trends"),
    path("v1/dashboards/agent/", AgentDashboardView.as_view(), name="api-dashboard-agent"),
    path("v1/dashboards/team/", TeamDashboardView.as_view(), name="api-dashboard-team"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SwaggerDocsView.as_view(url_name="api-schema"), name="api-docs"),
]
