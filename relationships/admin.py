"""Administration of relationship metadata only. No note, draft, purpose, agenda,
summary or action item text is shown here, to anyone, superusers included: notes and
drafts are not registered at all, and the encrypted columns are never listed."""

from django.contrib import admin

from relationships.models import CoachingRelationship, CoachingSession


@admin.register(CoachingRelationship)
class CoachingRelationshipAdmin(admin.ModelAdmin):
    list_display = ["public_id", "organisation", "status", "created_at", "ended_at"]
    list_filter = ["status"]
    list_select_related = ["organisation"]
    fields = ["organisation", "status", "created_at", "accepted_at", "ended_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


@admin.register(CoachingSession)
class CoachingSessionAdmin(admin.ModelAdmin):
    list_display = ["public_id", "held_on", "duration_minutes", "focus"]
    fields = ["held_on", "duration_minutes", "focus", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
