from django.utils.functional import SimpleLazyObject

from accounts.frame import frame_links, nav_section, page_frame


def frame(request):
    """What the page frame shows of the signed-in person (accounts.frame): their
    membership and the number of check-ins they have yet to answer, from one query run
    only if a template uses them (an htmx fragment does not), and the navigation section
    of the page, and the frame's links (found once per process)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None, "frame": None, "nav_section": "", "frame_links": frame_links()}
    lazy_frame = SimpleLazyObject(lambda: page_frame(request))
    return {
        "membership": SimpleLazyObject(lambda: lazy_frame.membership),
        "frame": lazy_frame,
        "nav_section": nav_section(request),
        "frame_links": frame_links(),
    }
