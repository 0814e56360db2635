"""Estimators: churn, survival, CLV and size models, and their metrics."""
