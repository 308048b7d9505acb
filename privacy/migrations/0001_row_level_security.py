"""Row-level security on PostgreSQL (issue 18; privacy/rls.py says how it is used).

Creates the app's two roles when the migrating role may (CREATEROLE; elsewhere an
operator creates them first, see the README), grants `rapport_app` the use of every
table but ownership of none, gives `rapport_hr` SELECT on the published rollups only,
and puts policies on each table holding private or person-level text. A later
migration that adds such a table adds its policies too (docs/threat-model.md).

Nothing here runs on SQLite."""

from django.db import migrations

from privacy.migrations._row_security import apply_policies, drop_policies

NOT_STARTED = "('invited', 'declined', 'expired', 'withdrawn')"

ROLES = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rapport_app') THEN
    CREATE ROLE rapport_app NOLOGIN NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rapport_hr') THEN
    CREATE ROLE rapport_hr NOLOGIN NOBYPASSRLS;
  END IF;
END $$;
GRANT rapport_hr TO rapport_app;
GRANT USAGE ON SCHEMA public TO rapport_app, rapport_hr;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO rapport_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO rapport_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO rapport_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO rapport_app;
GRANT SELECT ON insights_publishedmonth, insights_publishedcell TO rapport_hr;
"""

FUNCTIONS = """
CREATE OR REPLACE FUNCTION rapport_user_id() RETURNS bigint
  LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION rapport_purpose() RETURNS text
  LANGUAGE sql STABLE
  AS $$ SELECT coalesce(current_setting('app.purpose', true), '') $$;

-- Whether a row with this public id exists, for whoever asks: a refused request is
-- logged (config/access.py) even when the row is one the asker's policies hide. It
-- answers yes or no, nothing of the row.
CREATE OR REPLACE FUNCTION rapport_exists(tbl regclass, pid uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    DECLARE found boolean;
    BEGIN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE public_id = $1)', tbl)
        INTO found USING pid;
      RETURN found;
    END
  $$;
REVOKE ALL ON FUNCTION rapport_exists(regclass, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rapport_exists(regclass, uuid) TO rapport_app;

-- The id a narrow task names ('agenda:42' -> 42 for 'agenda'), or NULL.
CREATE OR REPLACE FUNCTION rapport_purpose_id(kind text) RETURNS bigint
  LANGUAGE sql STABLE
  AS $$
    SELECT CASE WHEN split_part(rapport_purpose(), ':', 1) = kind
      THEN nullif(split_part(rapport_purpose(), ':', 2), '')::bigint END
  $$;
"""

# (table, policies). Each policy: (name, command, USING, WITH CHECK).
#
# The party rule is an uncorrelated IN (subquery): PostgreSQL runs it once per query and
# hashes the few ids, where a function called for each row (a correlated EXISTS) cost
# the relationship page 2 ms of PostgreSQL's CPU on the benchmark's two years of notes.
AUTHOR = "author_id = rapport_user_id()"
MY_RELATIONSHIPS = (
    "SELECT r.id FROM relationships_coachingrelationship r"
    " WHERE (r.coach_id = rapport_user_id() OR r.coachee_id = rapport_user_id())"
    f" AND r.status NOT IN {NOT_STARTED}"
)
PARTY = f"relationship_id IN ({MY_RELATIONSHIPS})"
AUTHOR_OR_SHARED = f"(author_id = rapport_user_id() OR visibility = 'shared') AND {PARTY}"
AGENDA = "relationship_id = rapport_purpose_id('agenda')"
RESPONDENT = "respondent_id = rapport_user_id()"
ROUNDS_OF_ONE_RELATIONSHIP = (
    "round_id IN (SELECT ro.id FROM reflections_checkinround ro"
    " WHERE ro.relationship_id = rapport_purpose_id('checkins'))"
)
ROUNDS_OF_ONE_ORGANISATION = (
    "round_id IN (SELECT ro.id FROM reflections_checkinround ro"
    " JOIN relationships_coachingrelationship r ON r.id = ro.relationship_id"
    " WHERE r.organisation_id = rapport_purpose_id('rollups'))"
)
# An answer's round, looked up for each of the other party's answers: hashing every
# round of the reader's relationships instead (hundreds, for a coach of several) cost
# the relationship page's read of its latest rounds twice as much.
MY_ROUNDS = (
    "EXISTS (SELECT 1 FROM reflections_checkinround ro WHERE ro.id = round_id"
    f" AND ro.relationship_id IN ({MY_RELATIONSHIPS}))"
)
POLICIES = {
    # A private note is its author's; a shared one is also the other party's to read.
    "relationships_note": [
        ("read", "SELECT", AUTHOR_OR_SHARED, None),
        ("add", "INSERT", None, f"{AUTHOR} AND {PARTY}"),
        ("edit", "UPDATE", AUTHOR, AUTHOR),
        ("remove", "DELETE", AUTHOR, None),
    ],
    "relationships_notedraft": [("own", "ALL", AUTHOR, AUTHOR)],
    # Either party reorders and ticks off the shared points; a private one is its
    # author's alone; numbering an agenda, or carrying it to the next session, reaches
    # every point of that one relationship.
    "relationships_talkingpoint": [
        ("read", "SELECT", f"({AUTHOR_OR_SHARED}) OR {AGENDA}", None),
        ("add", "INSERT", None, f"{AUTHOR} AND {PARTY}"),
        (
            "edit",
            "UPDATE",
            f"({AUTHOR_OR_SHARED}) OR {AGENDA}",
            f"({AUTHOR_OR_SHARED}) OR {AGENDA}",
        ),
        ("remove", "DELETE", AUTHOR, None),
    ],
    "reflections_reflection": [("own", "ALL", AUTHOR, AUTHOR)],
    "reflections_integritycheck": [("own", "ALL", AUTHOR, AUTHOR)],
    # Both parties read a round's answers (the reveal needs to know who answered; the
    # application shows the other's only once revealed, and only if shared); closing
    # one relationship's rounds sees who answered them, and one organisation's rollups
    # count its answers; nobody else reads them.
    "reflections_checkinresponse": [
        (
            "read",
            "SELECT",
            f"{RESPONDENT} OR {MY_ROUNDS}"
            f" OR {ROUNDS_OF_ONE_RELATIONSHIP} OR {ROUNDS_OF_ONE_ORGANISATION}",
            None,
        ),
        ("answer", "INSERT", None, f"{RESPONDENT} AND {MY_ROUNDS}"),
        ("edit", "UPDATE", RESPONDENT, RESPONDENT),
        ("remove", "DELETE", RESPONDENT, None),
    ],
}


def forwards(apps, schema_editor):
    apply_policies(schema_editor, POLICIES, before=[ROLES, FUNCTIONS])


def backwards(apps, schema_editor):
    drop_policies(
        schema_editor,
        POLICIES,
        after=[
            "DROP FUNCTION IF EXISTS rapport_purpose_id(text), rapport_exists(regclass, uuid),"
            " rapport_user_id(), rapport_purpose();"
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("relationships", "0007_talking_points"),
        ("reflections", "0006_bind_checkin_comments"),
        ("insights", "0004_published_month_summary"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
