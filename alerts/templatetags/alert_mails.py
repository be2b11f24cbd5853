from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag(takes_context=True)
def labelled(context, label, value) -> str:
    """``label: value`` with the language's punctuation (French puts a space before the
    colon), escaped in the HTML mails only."""
    if context.autoescape:
        label, value = conditional_escape(label), conditional_escape(value)
    return mark_safe(gettext("%(label)s: %(value)s") % {"label": label, "value": value})  # noqa: S308
