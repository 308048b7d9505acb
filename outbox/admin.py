from django.contrib import admin

from outbox.models import OutgoingEmail


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """What an operator needs to see a failed send and retry it (`manage.py email_outbox
    retry`): who, which email, what the server said. Never the message, which stays
    encrypted and is erased once sent. Read-only: the queue is the workers' to change."""

    list_display = ["created_at", "template", "recipient_list", "status", "attempts", "last_error"]
    list_filter = ["status", "template"]
    fields = [
        "public_id",
        "template",
        "recipients",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields
    search_fields = ["template"]

    @admin.display(description="Recipients")
    def recipient_list(self, email):
        return ", ".join(email.recipients)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
