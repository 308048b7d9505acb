"""Background work, through Django's tasks framework (`django.tasks` from Django 6; the
`django_tasks` backport before it). Arguments are ids, never text: the task table
holds nothing private."""

try:
    from django.tasks import task
except ImportError:  # Django 5.2: the backport, the same API
    from django_tasks import task


@task()
def deliver_email(public_id: str) -> str:
    from outbox.services import deliver

    return deliver(public_id)
