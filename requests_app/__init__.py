"""Service requests: requests, requested items and fulfilment tasks (see issue 5; models land there)."""
