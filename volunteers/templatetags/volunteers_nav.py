"""The menu of the volunteers' pages: `{% nav_entries as entries %}` (volunteers.navigation)."""

from django import template

from volunteers import navigation

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_entries(context) -> list[dict]:
    request = context.get("request")
    return navigation.entries_for(request) if request is not None else []
