"""Row-level security for the relationship's shared text: sessions (agenda and summary)
and action items, readable and writable by the two parties of a started relationship
only. Closing one relationship's rounds (which opens the next after a session) reads its
sessions; an organisation's rollups count its sessions held; the reminder of items due
tomorrow reads open items with a due date, and nothing else.

Nothing here runs on SQLite."""

from django.db import migrations

from privacy.migrations._row_security import apply_policies, drop_policies

PARTY = (
    "relationship_id IN (SELECT r.id FROM relationships_coachingrelationship r"
    " WHERE (r.coach_id = rapport_user_id() OR r.coachee_id = rapport_user_id())"
    " AND r.status NOT IN ('invited', 'declined', 'expired', 'withdrawn'))"
)
ONE_RELATIONSHIP = "relationship_id = rapport_purpose_id('checkins')"
ONE_ORGANISATION = (
    "relationship_id IN (SELECT r.id FROM relationships_coachingrelationship r"
    " WHERE r.organisation_id = rapport_purpose_id('rollups'))"
)
# Not narrowed by date: the database's clock is not the one the task reasons with.
DUE_SOON = "rapport_purpose() = 'due-items' AND done_at IS NULL AND due_on IS NOT NULL"
POLICIES = {
    "relationships_coachingsession": [
        ("read", "SELECT", f"{PARTY} OR {ONE_RELATIONSHIP} OR {ONE_ORGANISATION}", None),
        ("add", "INSERT", None, PARTY),
        ("edit", "UPDATE", PARTY, PARTY),
        ("remove", "DELETE", PARTY, None),
    ],
    "relationships_actionitem": [
        ("read", "SELECT", f"{PARTY} OR ({DUE_SOON})", None),
        ("add", "INSERT", None, PARTY),
        ("edit", "UPDATE", PARTY, PARTY),
        ("remove", "DELETE", PARTY, None),
    ],
}


def forwards(apps, schema_editor):
    apply_policies(schema_editor, POLICIES)


def backwards(apps, schema_editor):
    drop_policies(schema_editor, POLICIES)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_row_level_security")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
