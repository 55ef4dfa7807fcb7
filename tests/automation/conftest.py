import pytest

from itsm.models import Category, Team
from tests.factories import AgentFactory


@pytest.fixture
def identity(db):
    team = Team.objects.create(name="Identity")
    team.members.add(*(AgentFactory(username=f"id_agent_{n}") for n in range(3)))
    return team


@pytest.fixture
def access(db):
    top = Category.objects.create(practice="incident", name="Access")
    sub = Category.objects.create(practice="incident", name="Password", parent=top)
    return top, sub
