"""Check-ins, private reflections and integrity self-checks (see the check-ins issue)."""
