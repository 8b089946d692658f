from django import template

register = template.Library()


@register.filter
def field_display(obj, name: str):
    """The human value of a model field: choice labels, lists joined, booleans as yes/no."""
    display = getattr(obj, f"get_{name}_display", None)
    if callable(display):
        return display()
    value = getattr(obj, name)
    if isinstance(value, bool):
        from django.utils.translation import gettext as _

        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value
