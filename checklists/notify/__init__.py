"""Notifications and the channels that carry them (issue 16's room; issue 21's suite apps live in suites/)."""
