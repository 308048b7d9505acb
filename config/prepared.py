"""Reads whose SQL the ORM writes once per process, not once per request.

Building and compiling a QuerySet costs Django 0.3-2.5 ms of CPU per query, often more
than running it (issue 15). For the reads the busiest pages make, the QuerySet is still
written with the ORM in the usual place, from the usual rules (visible_to, due_rounds...),
but compiled once, with stand-ins for the values that change between requests (the
person, the moment, the organisation); each request then runs that SQL with its own
values, and Django turns the rows into objects as it does for any QuerySet
(select_related, annotations, values_list included).

The stand-ins are found by compiling the QuerySet twice, with two different sets of
stand-ins: the SQL must come out the same, and exactly the parameters that differ must
be the stand-ins' own. Anything else (a value folded into the SQL text, or changed on the
way to a parameter) refuses to run rather than guess.

    _due = PreparedRead(lambda person, moment: due_rounds(person, moment), person=Row(User),
                        moment=Moment())
    _due(person=request.user, moment=timezone.now())  # a list, as list(queryset)
"""

import copy
import itertools
import uuid
import weakref
from datetime import UTC, date, datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

# The two zones the two versions are compiled under: far apart, neither the default.
_ZONES = ("Pacific/Kiritimati", "America/Adak")
_negative_ids = itertools.count(7_340_117, 4)


class Row:
    """A model instance (the person, the organisation) or its primary key: the key is
    the parameter. The stand-ins are unsaved instances with ids no row has."""

    def __init__(self, model):
        self.model, self.first = model, -next(_negative_ids)

    @property
    def stand_ins(self):
        # Made when first compiled, not at import: the models may not be ready then.
        return (self.model(pk=self.first), self.model(pk=self.first - 2))

    def params(self, connection, value) -> list:
        return [value if isinstance(value, int) else value.pk]


class Moment:
    """An aware datetime. The stand-ins are in 2001, when nothing in Rapport happened."""

    stand_ins = (
        datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
        datetime(2001, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
    )

    def params(self, connection, value) -> list:
        return [connection.ops.adapt_datetimefield_value(value)]


class Dates:
    """A list of exactly `count` dates (say, the twelve closed months)."""

    def __init__(self, count: int):
        self.count = count
        self.stand_ins = tuple(
            [date(year, 1, 1) + timedelta(days=i) for i in range(count)] for year in (1901, 1902)
        )

    def params(self, connection, value) -> list:
        if len(value) != self.count:
            raise ValueError(f"Expected {self.count} dates, got {len(value)}.")
        return [connection.ops.adapt_datefield_value(d) for d in value]


class PublicId:
    """A public id (a UUID from the URL) of `model`: its parameter is what the model's
    public_id field sends the database."""

    def __init__(self, model):
        self.model = model

    stand_ins = (
        uuid.UUID("00000000-0000-4000-8000-00000000e001"),
        uuid.UUID("00000000-0000-4000-8000-00000000e002"),
    )

    def params(self, connection, value) -> list:
        field = self.model._meta.get_field("public_id")
        return [field.get_db_prep_value(value, connection)]


class PreparedRead:
    """`build(**values)` returns the QuerySet to run; `PreparedRead(build, **kinds)(**values)`
    is `list(build(**values))`, with the SQL compiled once per process."""

    def __init__(self, build, **kinds):
        self.build, self.kinds = build, kinds
        self._compiled = {}

    def __call__(self, **values) -> list:
        if values.keys() != self.kinds.keys():
            raise TypeError(f"Expected {sorted(self.kinds)}, got {sorted(values)}.")
        # As the page frame's query (accounts.frame): the project has one database.
        connection = connections[DEFAULT_DB_ALIAS]
        key = (DEFAULT_DB_ALIAS, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.build, self.kinds, DEFAULT_DB_ALIAS)
        return compiled.run(connection, values)


class _Compiled:
    def __init__(self, build, kinds, alias):
        connection = connections[alias]
        compiled = []
        for which in (0, 1):
            # Compiled under two time zones as well: a value the QuerySet takes from the
            # active zone (a __date lookup, Trunc) then differs between the versions
            # without being a stand-in's, and is refused below rather than frozen into
            # the SQL from the first request's reader.
            with timezone.override(_ZONES[which]):
                queryset = build(**{name: kind.stand_ins[which] for name, kind in kinds.items()})
                if queryset.db != alias:
                    raise RuntimeError(f"{build!r} reads from {queryset.db}, not {alias}.")
                if queryset._known_related_objects or queryset._prefetch_related_lookups:
                    # They would hold a stand-in, or run queries of their own.
                    raise RuntimeError(f"{build!r}: only a plain QuerySet can be prepared.")
                compiler = queryset.query.get_compiler(using=alias)
                sql, params = compiler.as_sql()
            compiled.append((queryset, compiler, sql, tuple(params)))
        (queryset, compiler, sql, params), (_, _, other_sql, other_params) = compiled
        if sql != other_sql or len(params) != len(other_params):
            raise RuntimeError(f"The SQL of {build!r} depends on its values: {sql!r}")
        # Each stand-in's parameters, in both versions: (name, index) by parameter.
        stand_in_params = {
            (name, index): pair
            for name, kind in kinds.items()
            for index, pair in enumerate(
                zip(
                    kind.params(connection, kind.stand_ins[0]),
                    kind.params(connection, kind.stand_ins[1]),
                    strict=True,
                )
            )
        }
        slots = []
        for param, other in zip(params, other_params, strict=True):
            if param == other:
                slots.append((None, param))
                continue
            found = [slot for slot, pair in stand_in_params.items() if pair == (param, other)]
            if len(found) != 1:
                raise RuntimeError(f"Cannot tell what {param!r} is in {sql!r}.")
            slots.append(found[0])
        # Connections belong to a thread: the compiler is copied and given the running
        # thread's connection on each use.
        compiler.connection = None
        self.queryset, self.compiler, self.sql, self.slots = queryset, compiler, sql, slots
        self.kinds = kinds
        # The converters of the selected columns (field and backend converters), found
        # once per connection rather than on every run: finding them was a fifth of a
        # small read's Python time. Per connection, since a backend's converters may be
        # bound to it.
        self._converters = weakref.WeakKeyDictionary()

    def _converters_for(self, connection, compiler):
        converters = self._converters.get(connection)
        if converters is None:
            fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
            converters = self._converters[connection] = compiler.get_converters(fields)
        return converters

    def run(self, connection, values) -> list:
        by_name = {name: kind.params(connection, values[name]) for name, kind in self.kinds.items()}
        params = tuple(
            value if name is None else by_name[name][value] for name, value in self.slots
        )
        compiler = copy.copy(self.compiler)
        compiler.connection = connection
        sql = self.sql
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        converters = self._converters_for(connection, compiler)
        compiler.get_converters = lambda expressions: converters
        # A fresh QuerySet (nothing fetched yet) over a shallow copy of the compiled
        # query, whose get_compiler hands back that compiler: Django then runs it and
        # builds the objects as for any QuerySet. Shallow: nothing here changes the
        # query, and cloning it (its WHERE tree, subqueries and all) cost more than the
        # rest of a small read's Python time.
        query = _shallow_copy(self.queryset.query)
        query.get_compiler = lambda *args, **kwargs: compiler
        queryset = _shallow_copy(self.queryset)
        # Not `queryset.query = query`: that setter would turn a values_list() read into
        # a values() one.
        queryset._query = query
        return list(queryset)


def _shallow_copy(instance):
    # Not copy.copy: a QuerySet's __getstate__ (which copy.copy uses) fetches its rows.
    copied = object.__new__(type(instance))
    copied.__dict__.update(instance.__dict__)
    return copied
