"""Shared by the security suites: the counts each suite reports at the end of the run (routes covered, payloads
tried, ...), printed in pytest's terminal summary."""

from __future__ import annotations

SUMMARY: dict[str, str] = {}


def report(suite: str, line: str) -> None:
    """Record a count line for the terminal summary (the last line recorded per suite wins)."""
    SUMMARY[suite] = line


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not SUMMARY:
        return
    terminalreporter.section("security suites")
    for suite, line in sorted(SUMMARY.items()):
        terminalreporter.write_line(f"{suite}: {line}")
