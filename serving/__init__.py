"""Nightly scoring, write-back, the churn-risk list and the CLI."""
