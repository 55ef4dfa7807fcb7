"""The incident practice."""
