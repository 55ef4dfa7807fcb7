import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_sidebar_counts():
    """The sidebar's counts are cached per user for a few seconds; every test starts without them."""
    cache.clear()
    yield
    cache.clear()
