"""Change enablement: changes, CAB approvals and the change calendar (see issue 4; models land there)."""
