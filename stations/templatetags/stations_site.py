"""Template tags for pages that name the county: the active practice center's name, cached."""

from django import template

from stations.selectors import county_name as _county_name

register = template.Library()


@register.simple_tag
def county_name() -> str:
    return _county_name()
