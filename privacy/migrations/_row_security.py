"""Shared by the row-level security migrations: policies as (name, command, USING,
WITH CHECK) per table, for the role rapport_app. PostgreSQL only."""


def _policy_sql(table, name, command, using, check):
    sql = f"CREATE POLICY {name} ON {table} AS PERMISSIVE FOR {command} TO rapport_app"
    if using:
        sql += f" USING ({using})"
    if check:
        sql += f" WITH CHECK ({check})"
    return sql + ";"


def apply_policies(schema_editor, policies_by_table, *, before=()):
    if schema_editor.connection.vendor != "postgresql":
        return
    statements = list(before)
    for table, policies in policies_by_table.items():
        statements.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;")
        statements += [_policy_sql(table, *policy) for policy in policies]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def drop_policies(schema_editor, policies_by_table, *, after=()):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, policies in policies_by_table.items():
            for name, *_ in policies:
                cursor.execute(f"DROP POLICY IF EXISTS {name} ON {table};")
            cursor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;")
        for statement in after:
            cursor.execute(statement)
