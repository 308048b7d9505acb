"""Check-in views. Rounds are reached only through CheckInRound.objects.visible_to();
what of the other person's answers a page shows is decided by selectors.round_view."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.access import scoped_get_or_404
from config.errors import ConflictError
from config.forms import apply_validation_error, is_uuid
from reflections import selectors, services
from reflections.dimensions import DIMENSIONS, SCALE
from reflections.forms import (
    CadenceForm,
    CheckInForm,
    IntegrityCheckForm,
    ReflectionEditForm,
    ReflectionForm,
    RetentionForm,
)
from reflections.models import CheckInRound, IntegrityCheck, Reflection
from reflections.prompts import ALL_PROMPTS, INTEGRITY_BEHAVIOURS
from reflections.templatetags.hot_partials import long_text
from relationships.models import CoachingRelationship

PAGE = "reflections/checkin.html"
TREND = "reflections/trend.html"


def _round(request, public_id) -> CheckInRound:
    round_ = selectors.checkin_round(request.user, public_id)
    if round_ is not None:
        return round_
    # Not theirs, or no such round: the same 404, and the refusal logged.
    return scoped_get_or_404(
        request,
        CheckInRound.objects.visible_to(request.user).select_related(
            "relationship__coach", "relationship__coachee"
        ),
        public_id=public_id,
    )


def _context(request, round_, form=None, step=None):
    relationship = round_.relationship
    other_name = relationship.other_party_name(request.user)
    view = selectors.round_view(round_, request.user, responses=selectors.round_responses(round_))
    if form is None and view.can_answer:
        form = CheckInForm(other_name=other_name)
    return {
        "round": round_,
        "relationship": relationship,
        "other_name": other_name,
        "view": view,
        "form": form,
        "step": step,
        "steps": len(DIMENSIONS) + 1,
        "review_step": len(DIMENSIONS) + 2,
        "dimension_fields": [form[d.key] for d in DIMENSIONS] if form is not None else [],
    }


SCALE_WORDS = dict(SCALE)


def _review(form: CheckInForm) -> dict:
    """What the review before sending shows: every answer in words, the comment and
    the choice to share, each with the step that changes it."""
    return {
        "reviewing": True,
        "review_rows": [
            {
                "step": number,
                "field": form[d.key],
                "value": form.cleaned_data[d.key],
                "words": SCALE_WORDS[form.cleaned_data[d.key]],
            }
            for number, d in enumerate(DIMENSIONS, start=1)
        ],
        "review_comment": form.cleaned_data["comment"].strip(),
        "review_shared": form.cleaned_data["shared"],
    }


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def checkin_detail(request, public_id):
    round_ = _round(request, public_id)
    if request.method == "GET":
        response = render(request, PAGE, _context(request, round_))
        patch_vary_headers(response, ["HX-Request"])
        return response
    other_name = round_.relationship.other_party_name(request.user)
    form = CheckInForm(request.POST, other_name=other_name)
    if form.is_valid() and request.POST.get("confirm") != "1":
        # Nothing is stored before the person has seen all their answers together and
        # confirmed them: one mis-tap must not become a final answer.
        context = _context(request, round_, form=form)
        if context["view"].can_answer:
            if "change" not in request.POST:
                context.update(_review(form))
            # "Change" without JavaScript: the whole form again, filled in, at that answer.
            return render(request, PAGE, context)
    if form.is_valid():
        try:
            submitted = services.checkin_submit(
                round_=round_,
                user=request.user,
                answers=form.answers(),
                comment=form.cleaned_data["comment"],
                shared=form.cleaned_data["shared"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("checkin_detail", public_id=round_.public_id)
        if submitted.created:
            messages.success(request, "Thank you. Your answers are saved and can't be changed.")
        else:
            messages.info(request, "You had already answered this round; nothing was changed.")
        return redirect("checkin_detail", public_id=round_.public_id)
    return render(request, PAGE, _context(request, round_, form=form), status=200)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def checkin_step(request, public_id):
    """htmx: the same form, one statement at a time, carrying what was entered."""
    round_ = _round(request, public_id)
    data = request.POST if request.method == "POST" else request.GET
    try:
        step = min(max(int(data.get("step", 1)), 1), len(DIMENSIONS) + 2)
    except ValueError:
        step = 1
    context = _context(request, round_, step=step)
    if not context["view"].can_answer:
        return redirect("checkin_detail", public_id=round_.public_id)
    # The first step arrives empty; later ones carry every value entered so far.
    form = CheckInForm(
        data if "shared_present" in data else None,
        other_name=context["other_name"],
        initial={"shared": True},
    )
    valid = form.is_valid()
    step_error = False
    answered_step = 1 < step <= len(DIMENSIONS) + 1
    if (
        data.get("direction") == "next"
        and answered_step
        and DIMENSIONS[step - 2].key in form.errors
    ):
        step, step_error = step - 1, True  # stay on the unanswered statement
    elif step == context["review_step"]:
        if valid:
            context.update(form=form, dimension_fields=[form[d.key] for d in DIMENSIONS])
            context.update(_review(form))
            response = render(request, f"{PAGE}#review", context)
            patch_vary_headers(response, ["HX-Request"])
            return response
        # Something is missing: back to the first step that needs it.
        missing = [n for n, d in enumerate(DIMENSIONS, start=1) if d.key in form.errors]
        step, step_error = (missing[0], True) if missing else (context["steps"], False)
    context.update(
        form=form,
        step=step,
        step_error=step_error,
        # Every answer given (they came to change one from the review): they can go
        # straight back to it.
        complete=valid,
        dimension_fields=[form[d.key] for d in DIMENSIONS],
    )
    response = render(request, f"{PAGE}#stepper", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def cadence_update_view(request, public_id):
    relationship = scoped_get_or_404(
        request,
        CoachingRelationship.objects.for_member(request.user).select_related("coach"),
        public_id=public_id,
    )
    form = CadenceForm(request.POST)
    if form.is_valid():
        try:
            services.cadence_update(
                relationship=relationship, user=request.user, cadence=form.cleaned_data["cadence"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, f"Check-ins: {relationship.get_checkin_cadence_display().lower()}."
            )
    else:
        messages.error(request, "Choose one of the check-in rhythms.")
    return redirect("relationship_detail", public_id=relationship.public_id)


@require_GET
def relationship_trend(request, public_id):
    relationship = selectors.trend_relationship(request.user, public_id) or scoped_get_or_404(
        # Not theirs, or no such relationship: the same 404, and the refusal logged.
        request,
        CoachingRelationship.objects.started_for(request.user).select_related("coach", "coachee"),
        public_id=public_id,
    )
    context = selectors.trend_context(
        relationship, request.user, request.GET.get("dimension", "overall")
    )
    template = f"{TREND}#chart" if request.htmx else TREND
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- The private journal ----------------------------------------------------------------

JOURNAL = "reflections/journal.html"
JOURNAL_PAGE_SIZE = 20
_URL_PLACEHOLDER = uuid.UUID(int=0)  # stands for an entry's public_id in its URLs


def _journal_context(request, retention_form=None):
    journal = selectors.journal_settings(request.user)
    # A page at a time: a journal kept for years stays quick to open.
    entries = Paginator(
        selectors.JournalEntries(request.user, JOURNAL_PAGE_SIZE), JOURNAL_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    entries.object_list = list(entries.object_list)
    # An entry's links, from one reverse() each: reversing two URLs per entry cost more
    # than the entry's other markup (issue 15).
    edit_url = reverse("reflection_edit", args=[_URL_PLACEHOLDER])
    delete_url = reverse("reflection_delete", args=[_URL_PLACEHOLDER])
    for entry in entries.object_list:
        # As |date:"j M Y, H:i" shows it, in the reader's time zone, formatted once
        # here: the page shows it three times an entry, and the filter cost more than
        # the entry around it (issue 15).
        entry.written = f"{timezone.localtime(entry.created_at):%-d %b %Y, %H:%M}"
        # includes/long_text.html's markup, the body escaped (see hot_partials.long_text).
        entry.body_html = long_text(entry.body)
        public_id = str(entry.public_id)
        entry.edit_url = edit_url.replace(str(_URL_PLACEHOLDER), public_id)
        entry.delete_url = delete_url.replace(str(_URL_PLACEHOLDER), public_id)
        # Who the entry is about, as the reader sees it (plain text: the template
        # escapes the name); None for an entry about no relationship.
        relationship = entry.relationship
        if relationship is None:
            entry.with_whom = None
        elif relationship.coach_id == request.user.pk:
            entry.with_whom = f"coaching {relationship.coachee_label}"
        else:
            entry.with_whom = f"coached by {relationship.coach.name}"
    return {
        "retention_form": retention_form
        or RetentionForm(initial={"retention_days": journal.retention_days if journal else ""}),
        "entries": entries,
        "journal": journal,
    }


@require_GET
def journal(request):
    return render(request, JOURNAL, _journal_context(request))


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def reflection_create_view(request):
    if request.method == "GET":
        # From a prompt on a relationship page: the prompt and relationship come filled in.
        initial = {"prompt": request.GET.get("prompt", "")}
        if request.GET.get("prompt") not in ALL_PROMPTS:
            initial["prompt"] = ""
        relationship_id = request.GET.get("relationship")
        if relationship_id:
            initial["relationship"] = relationship_id
        form = ReflectionForm(author=request.user, initial=initial)
        relationship = (
            form.fields["relationship"]
            .queryset.filter(public_id=relationship_id if is_uuid(relationship_id) else None)
            .first()
        )
        name = relationship.other_party_name(request.user) if relationship else None
        prompt = ALL_PROMPTS.get(initial["prompt"])
        return render(
            request,
            "reflections/reflection_form.html",
            {"form": form, "prompt_text": prompt.for_name(name) if prompt else ""},
        )
    form = ReflectionForm(request.POST, author=request.user)
    if form.is_valid():
        try:
            services.reflection_create(author=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Saved to your private journal.")
            return redirect("journal")
    return render(request, "reflections/reflection_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def reflection_edit(request, public_id):
    reflection = scoped_get_or_404(
        request, Reflection.objects.visible_to(request.user), public_id=public_id
    )
    status = 200
    if request.method == "POST":
        form = ReflectionEditForm(request.POST, author=request.user)
        if form.is_valid():
            try:
                services.reflection_update(
                    reflection=reflection,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    relationship=form.cleaned_data["relationship"],
                    expected_version=form.cleaned_data["version"],
                )
            except ConflictError:
                reflection.refresh_from_db()
                status = 409
                form.add_error(
                    None,
                    "This entry was changed in another tab since you opened it. Your text is "
                    "still below; the latest saved version is shown above it.",
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, "Journal entry saved.")
                return redirect("journal")
    else:
        form = ReflectionEditForm(
            author=request.user,
            initial={
                "prompt": reflection.prompt,
                "relationship": reflection.relationship.public_id
                if reflection.relationship_id
                else None,
                "body": reflection.body,
                "version": reflection.version,
            },
        )
    return render(
        request,
        "reflections/reflection_form.html",
        {
            "form": form,
            "reflection": reflection,
            "prompt_text": _prompt_text(reflection, request.user),
            "conflict": status == 409,
        },
        status=status,
    )


@require_POST
def reflection_delete_view(request, public_id):
    reflection = scoped_get_or_404(
        request, Reflection.objects.visible_to(request.user), public_id=public_id
    )
    services.reflection_delete(reflection=reflection, author=request.user)
    messages.success(request, "Journal entry deleted.")
    return redirect("journal")


@require_POST
def journal_retention(request):
    form = RetentionForm(request.POST)
    if form.is_valid():
        services.journal_retention_set(
            author=request.user, retention_days=form.cleaned_data["retention_days"]
        )
        messages.success(request, "Retention saved.")
        return redirect("journal")
    return render(request, JOURNAL, _journal_context(request, retention_form=form))


@require_GET
def journal_export(request):
    """The author's journal and self-checks as JSON: theirs to take anywhere."""
    data = {
        "exported_at": timezone.now().isoformat(),
        "reflections": [
            {
                "written_at": r.created_at.isoformat(),
                "prompt": ALL_PROMPTS[r.prompt].text if r.prompt in ALL_PROMPTS else "",
                "body": r.body,
            }
            for r in selectors.journal_entries(request.user)
        ],
        "integrity_self_checks": [
            {"taken_on": c.taken_on.isoformat(), "ratings": c.ratings}
            for c in IntegrityCheck.objects.visible_to(request.user)
        ],
    }
    response = JsonResponse(data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="rapport-journal.json"'
    return response


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def integrity(request):
    form = IntegrityCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.integrity_check_create(
            author=request.user,
            ratings=form.ratings(),
            client_token=form.cleaned_data["client_token"],
        )
        messages.success(request, "Self-check saved. Only you can see it.")
        return redirect("integrity")
    context = {
        "form": form,
        "behaviours": INTEGRITY_BEHAVIOURS,
        **selectors.integrity_page(request.user),
    }
    return render(request, "reflections/integrity.html", context)


@require_POST
def integrity_check_delete_view(request, public_id):
    check = scoped_get_or_404(
        request, IntegrityCheck.objects.visible_to(request.user), public_id=public_id
    )
    services.integrity_check_delete(check=check, author=request.user)
    messages.success(request, "Self-check deleted.")
    return redirect("integrity")


@require_POST
def prompt_dismiss_view(request, public_id):
    relationship = scoped_get_or_404(
        request, CoachingRelationship.objects.for_member(request.user), public_id=public_id
    )
    round_ = None
    round_id = request.POST.get("round")
    if round_id:
        round_ = scoped_get_or_404(
            request,
            CheckInRound.objects.visible_to(request.user).filter(relationship=relationship),
            public_id=round_id if is_uuid(round_id) else uuid.uuid4(),
        )
    try:
        services.prompt_dismiss(
            user=request.user,
            relationship=relationship,
            kind=request.POST.get("kind", ""),
            round_=round_,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    if request.htmx:
        return HttpResponse("")
    return redirect("relationship_detail", public_id=relationship.public_id)


def _prompt_text(reflection, user) -> str:
    prompt = ALL_PROMPTS.get(reflection.prompt)
    if prompt is None:
        return ""
    relationship = reflection.relationship
    return prompt.for_name(relationship.other_party_name(user) if relationship else None)
