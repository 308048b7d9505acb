from django.db import connection

QUERY_COUNT_HEADER = "X-Bench-Queries"


def count_queries(get_response):
    """Report the number of SQL statements a request ran in a response header, for the
    harness's "queries per request" column (DEBUG is off, so Django keeps no log)."""

    def middleware(request):
        statements = 0

        def counter(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = get_response(request)
        response[QUERY_COUNT_HEADER] = str(statements)
        return response

    return middleware
