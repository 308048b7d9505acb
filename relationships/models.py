"""Coaching relationships, sessions, notes and action items (see the relationships issue)."""
