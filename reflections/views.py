"""Check-in views. Rounds are reached only through CheckInRound.objects.visible_to();
what of the other person's answers a page shows is decided by selectors.round_view."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reflections import selectors, services
from reflections.dimensions import DIMENSIONS
from reflections.forms import CadenceForm, CheckInForm
from reflections.models import CheckInRound
from relationships.models import CoachingRelationship

PAGE = "reflections/checkin.html"
TREND = "reflections/trend.html"


def _round(request, public_id) -> CheckInRound:
    return get_object_or_404(
        CheckInRound.objects.visible_to(request.user).select_related(
            "relationship__coach", "relationship__coachee"
        ),
        public_id=public_id,
    )


def _context(request, round_, form=None, step=None):
    relationship = round_.relationship
    other_name = relationship.other_party_name(request.user)
    view = selectors.round_view(round_, request.user)
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
        "dimension_fields": [form[d.key] for d in DIMENSIONS] if form is not None else [],
    }


@require_http_methods(["GET", "POST"])
def checkin_detail(request, public_id):
    round_ = _round(request, public_id)
    if request.method == "GET":
        response = render(request, PAGE, _context(request, round_))
        patch_vary_headers(response, ["HX-Request"])
        return response
    other_name = round_.relationship.other_party_name(request.user)
    form = CheckInForm(request.POST, other_name=other_name)
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
def checkin_step(request, public_id):
    """htmx: the same form, one statement at a time, carrying what was entered."""
    round_ = _round(request, public_id)
    data = request.POST if request.method == "POST" else request.GET
    try:
        step = min(max(int(data.get("step", 1)), 1), len(DIMENSIONS) + 1)
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
    form.is_valid()
    step_error = False
    if data.get("direction") == "next" and step > 1 and DIMENSIONS[step - 2].key in form.errors:
        step, step_error = step - 1, True  # stay on the unanswered statement
    context.update(
        form=form,
        step=step,
        step_error=step_error,
        dimension_fields=[form[d.key] for d in DIMENSIONS],
    )
    response = render(request, f"{PAGE}#stepper", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def cadence_update_view(request, public_id):
    relationship = get_object_or_404(
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
    relationship = get_object_or_404(
        CoachingRelationship.objects.for_member(request.user)
        .exclude(status__in=CoachingRelationship.NOT_STARTED_STATUSES)
        .with_people(),
        public_id=public_id,
    )
    context = selectors.trend_context(
        relationship, request.user, request.GET.get("dimension", "overall")
    )
    template = f"{TREND}#chart" if request.htmx else TREND
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
