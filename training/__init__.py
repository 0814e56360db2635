"""Thin training entry points: build frames, split by time, fit, evaluate, log, register."""
