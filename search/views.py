from django import forms
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from search import services


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search your notes, agendas, action items and journal",
        min_length=services.MIN_QUERY,
        max_length=services.MAX_QUERY,
        error_messages={
            "required": f"Type at least {services.MIN_QUERY} characters to search.",
            "min_length": f"Type at least {services.MIN_QUERY} characters to search.",
            "max_length": f"Keep a search under {services.MAX_QUERY} characters.",
        },
    )


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("q")
def search(request):
    """The search page. The query travels in the POST body (never in the URL, where
    access logs and browser history would keep it), and the results are the answer to
    that POST: there is no address that shows them again."""
    results = None
    if request.method == "POST":
        form = SearchForm(request.POST)
        if form.is_valid():
            results = services.search(request.user, form.cleaned_data["q"])
    else:
        form = SearchForm()
    template = "search/search.html"
    if request.htmx and request.method == "POST":
        template += "#results"
    response = render(request, template, {"form": form, "results": results})
    patch_vary_headers(response, ["HX-Request"])
    return response
