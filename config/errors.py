from django.views.debug import SafeExceptionReporterFilter


class ConflictError(Exception):
    """The text was changed elsewhere (another tab, the other person) since this form
    was opened: the save is refused so that nothing is silently overwritten."""


class PrivateTextReporterFilter(SafeExceptionReporterFilter):
    """Error reports never carry what a person typed or what was decrypted for them.

    Django puts a failed request's POST values and every frame's local variables into
    500 emails and the debug page; here that would be note bodies, check-in comments and
    journal entries. So every POST value and every local variable is replaced, always
    (DEBUG included): a traceback with names and line numbers is enough to find a bug.
    """

    def is_active(self, request):
        return True

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
