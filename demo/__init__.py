"""Demo data: sits on top of every practice (nothing imports it), so `seed_demo` may use all their services."""
