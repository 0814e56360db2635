"""The journey data contract and its validator."""

from features.contract.schema import TABLES, Column, Rule, Table, get_table
from features.contract.validate import Staged, TableReport, ValidationResult, validate

__all__ = [
    "TABLES",
    "Column",
    "Rule",
    "Staged",
    "Table",
    "TableReport",
    "ValidationResult",
    "get_table",
    "validate",
]
