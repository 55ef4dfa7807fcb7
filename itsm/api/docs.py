"""The interactive API docs under the site's Content Security Policy."""

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularSwaggerSplitView


@method_decorator(csp_update({"style-src": ["'self'", "'unsafe-inline'"]}), name="dispatch")
class SwaggerDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served as a file of its own (no inline script, so the site's script
    policy holds); only this page allows inline styles, which Swagger UI's template and bundle use."""
