"""Row-level security on PostgreSQL (issue 18; privacy/rls.py says how it is used).

Creates the app's two roles when the migrating role may (CREATEROLE; elsewhere an
operator creates them first, see the README), grants `rapport_app` the use of every
table but ownership of none, gives `rapport_hr` SELECT on the published rollups only,
and puts policies on each table holding private or person-level text. A later
migration that adds such a table adds its policies too (docs/threat-model.md).

Nothing here runs on SQLite."""

from django.db import migrations

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

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION rapport_user_id() RETURNS bigint
  LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION rapport_purpose() RETURNS text
  LANGUAGE sql STABLE
  AS $$ SELECT coalesce(current_setting('app.purpose', true), '') $$;

-- A party to the relationship, which was accepted (and may since have ended): the
-- application's party_to_started.
CREATE OR REPLACE FUNCTION rapport_is_party(relationship bigint) RETURNS boolean
  LANGUAGE sql STABLE
  AS $$
    SELECT EXISTS (
      SELECT 1 FROM relationships_coachingrelationship r
      WHERE r.id = relationship
        AND rapport_user_id() IN (r.coach_id, r.coachee_id)
        AND r.status NOT IN {NOT_STARTED}
    )
  $$;

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

CREATE OR REPLACE FUNCTION rapport_round_relationship(round bigint) RETURNS bigint
  LANGUAGE sql STABLE
  AS $$ SELECT relationship_id FROM reflections_checkinround WHERE id = round $$;
"""

# (table, policies). Each policy: (name, command, USING, WITH CHECK).
AUTHOR = "author_id = rapport_user_id()"
AUTHOR_OR_SHARED = (
    "rapport_is_party(relationship_id) AND (author_id = rapport_user_id() OR visibility = 'shared')"
)
AGENDA = "rapport_purpose() = 'agenda:' || relationship_id"
RESPONDENT = "respondent_id = rapport_user_id()"
ROUND = "rapport_round_relationship(round_id)"
POLICIES = {
    # A private note is its author's; a shared one is also the other party's to read.
    "relationships_note": [
        ("read", "SELECT", AUTHOR_OR_SHARED, None),
        ("add", "INSERT", None, f"{AUTHOR} AND rapport_is_party(relationship_id)"),
        ("edit", "UPDATE", AUTHOR, AUTHOR),
        ("remove", "DELETE", AUTHOR, None),
    ],
    "relationships_notedraft": [("own", "ALL", AUTHOR, AUTHOR)],
    # Either party reorders and ticks off the shared points; a private one is its
    # author's alone; numbering an agenda, or carrying it to the next session, reaches every point.
    "relationships_talkingpoint": [
        ("read", "SELECT", f"({AUTHOR_OR_SHARED}) OR {AGENDA}", None),
        ("add", "INSERT", None, f"{AUTHOR} AND rapport_is_party(relationship_id)"),
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
    # application shows the other's only once revealed, and only if shared); the
    # organisation's rollups count them; nobody else reads them.
    "reflections_checkinresponse": [
        (
            "read",
            "SELECT",
            f"{RESPONDENT} OR rapport_is_party({ROUND})"
            f" OR rapport_purpose() = 'checkins:' || {ROUND}"
            " OR rapport_purpose() = 'rollups:' || (SELECT organisation_id"
            f" FROM relationships_coachingrelationship WHERE id = {ROUND})",
            None,
        ),
        ("answer", "INSERT", None, f"{RESPONDENT} AND rapport_is_party({ROUND})"),
        ("edit", "UPDATE", RESPONDENT, RESPONDENT),
        ("remove", "DELETE", RESPONDENT, None),
    ],
}


def _policy_sql(table, name, command, using, check):
    sql = f"CREATE POLICY {name} ON {table} AS PERMISSIVE FOR {command} TO rapport_app"
    if using:
        sql += f" USING ({using})"
    if check:
        sql += f" WITH CHECK ({check})"
    return sql + ";"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    statements = [ROLES, FUNCTIONS]
    for table, policies in POLICIES.items():
        statements.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;")
        statements += [_policy_sql(table, *policy) for policy in policies]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, policies in POLICIES.items():
            for name, *_ in policies:
                cursor.execute(f"DROP POLICY IF EXISTS {name} ON {table};")
            cursor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;")
        cursor.execute(
            "DROP FUNCTION IF EXISTS rapport_is_party(bigint), rapport_round_relationship(bigint),"
            " rapport_exists(regclass, uuid), rapport_user_id(), rapport_purpose();"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("relationships", "0007_talking_points"),
        ("reflections", "0006_bind_checkin_comments"),
        ("insights", "0004_published_month_summary"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
