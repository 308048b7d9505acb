from django import template

register = template.Library()


@register.filter
def get_cell(mapping, key):
    """A cell of a dict-shaped table, by key (templates can't index by a variable)."""
    return mapping.get(key) if mapping else None


@register.filter
def get_dimension_cell(mapping, perspective):
    """The (perspective, dimension) cells of one perspective, keyed by dimension."""
    return {key[1]: cell for key, cell in mapping.items() if key[0] == perspective}
