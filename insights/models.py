"""Anonymised rollups for HR. These tables hold counts and sums only: no user,
relationship or response id. This app must never import the models that hold
private text (an import-linter contract in CI enforces it)."""

from django.db import models

from accounts.models import Organisation, Team


class Perspective(models.TextChoices):
    COACHEE_ABOUT_COACH = "coachee_about_coach", "Coachees about their coaches"
    COACH_ABOUT_COACHEE = "coach_about_coachee", "Coaches about their coachees"


class TrustRollup(models.Model):
    """One cell: an organisation (team None) or one team, one calendar month, one
    dimension, one perspective."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    period = models.DateField(help_text="The first day of the month.")
    dimension = models.CharField(max_length=32)
    perspective = models.CharField(max_length=24, choices=Perspective.choices)
    respondents = models.PositiveIntegerField(default=0)
    answer_sum = models.PositiveIntegerField(default=0)
    answer_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "team", "period", "dimension", "perspective"],
                name="one_trust_cell",
            ),
            models.UniqueConstraint(
                fields=["organisation", "period", "dimension", "perspective"],
                condition=models.Q(team__isnull=True),
                name="one_organisation_trust_cell",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "period"])]

    def __str__(self):
        return f"{self.period:%Y-%m} {self.dimension} {self.perspective}"


class ActivityRollup(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    period = models.DateField()
    active_relationships = models.PositiveIntegerField(default=0)
    sessions_held = models.PositiveIntegerField(default=0)
    rounds_answered = models.PositiveIntegerField(default=0)
    rounds_missed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "team", "period"], name="one_activity_cell"
            ),
            models.UniqueConstraint(
                fields=["organisation", "period"],
                condition=models.Q(team__isnull=True),
                name="one_organisation_activity_cell",
            ),
        ]

    def __str__(self):
        return f"{self.period:%Y-%m} activity"
