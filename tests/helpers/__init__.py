"""Helpers shared by the test modules (factories, builders)."""
