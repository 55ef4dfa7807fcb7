"""Problem management: problems, root causes and known errors (see issue 4; models land there)."""
