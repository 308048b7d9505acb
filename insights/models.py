"""Anonymised rollups for HR. This app must never import the models that hold
private text: an import-linter contract in CI enforces it."""
