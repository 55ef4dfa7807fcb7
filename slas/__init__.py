"""The SLA engine: schedules, SLA definitions, clocks and sweeps (see issue 3; models land there)."""
