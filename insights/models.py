"""HR's published months. A month is computed once, when it has closed, and stored here:
the groups, their labels as they were then, every suppression decision and the figures
shown. Nothing later (team moves, leavers, a new threshold, a rebuild) rewrites it.
These tables hold shown figures only: no user, relationship or response id, and
nothing at all for a suppressed cell. This app must never import the models that hold
private text (an import-linter contract in CI enforces it)."""

from django.db import models
from django.utils import timezone

from accounts.models import Organisation


class Perspective(models.TextChoices):
    COACHEE_ABOUT_COACH = "coachee_about_coach", "Coachees about their coaches"
    COACH_ABOUT_COACHEE = "coach_about_coachee", "Coaches about their coachees"


class PublishedMonth(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(help_text="The first day of the (UTC) calendar month.")
    threshold = models.PositiveSmallIntegerField(help_text="The organisation's k at the time.")
    small_team_count = models.PositiveIntegerField(
        default=0, help_text="Teams folded into “Other teams” for having fewer than k members."
    )
    published_at = models.DateTimeField(default=timezone.now)
    # Written once from the cells when the month is published, ready to show: the
    # whole organisation's figures for the dashboard (insights.services.month_summary)
    # and the month's rows of the CSV export (month_export).
    summary = models.JSONField(
        default=dict, blank=True, help_text="The whole organisation's figures."
    )
    csv_figures = models.TextField(blank=True, help_text="The trust figures, as CSV.")
    csv_activity = models.TextField(blank=True, help_text="The activity figures, as CSV.")

    class Meta:
        constraints = [
            # Two runs publishing the same month at once: the database refuses the second.
            models.UniqueConstraint(fields=["organisation", "period"], name="one_published_month")
        ]

    def __str__(self):
        return f"{self.period:%Y-%m} published"


class PublishedCell(models.Model):
    """One figure of a published month: a trust mean (group × perspective × dimension or
    "overall") or an activity figure (group "Whole organisation", no perspective)."""

    month = models.ForeignKey(PublishedMonth, on_delete=models.CASCADE, related_name="cells")
    position = models.PositiveSmallIntegerField(help_text="The group's place in the table.")
    group = models.CharField(max_length=120, help_text="The group's name when published.")
    perspective = models.CharField(max_length=24, blank=True)
    measure = models.CharField(max_length=32, help_text="overall, a dimension or an activity.")
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    respondents = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=120, blank=True, help_text="Why it is not shown.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "group", "perspective", "measure"], name="one_published_cell"
            ),
            # A suppressed cell keeps no figure at all, not even in the database.
            models.CheckConstraint(
                condition=models.Q(reason="")
                | models.Q(value__isnull=True, respondents__isnull=True),
                name="suppressed_cell_has_no_figure",
            ),
        ]

    def __str__(self):
        return f"{self.group} {self.perspective} {self.measure}"

    @property
    def suppressed(self) -> bool:
        return bool(self.reason)
