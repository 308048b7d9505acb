class ConflictError(Exception):
    """The text was changed elsewhere (another tab, the other person) since this form
    was opened: the save is refused so that nothing is silently overwritten."""
