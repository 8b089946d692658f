"""Filling Django forms in a real browser as a person would: typing into fields, picking options, ticking boxes."""

from __future__ import annotations


def fill(page, values: dict, *, within: str = "main form") -> None:
    """Set each named field of the form ``within`` to its value, by the field's own kind.

    Text inputs and text areas are typed into, selects get the option whose value *or* visible label is given,
    checkboxes are ticked or cleared by a bool, a list ticks the checkboxes (or selects the options) of those values.
    """
    form = page.locator(within).first
    for name, value in values.items():
        field = form.locator(f"[name='{name}']")
        first = field.first
        tag = first.evaluate("element => element.tagName.toLowerCase()")
        kind = (first.get_attribute("type") or "").lower()
        if tag == "select":
            options = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
            by_value = first.evaluate(
                "(element, wanted) => wanted.every(w => [...element.options].some(o => o.value === w))", options)
            if by_value:
                first.select_option(value=options)
            else:
                first.select_option(label=options)
        elif kind == "checkbox":
            if isinstance(value, list | tuple):
                for box in field.all():
                    box.set_checked(box.get_attribute("value") in {str(v) for v in value})
            else:
                first.set_checked(bool(value))
        elif kind == "radio":
            form.locator(f"[name='{name}'][value='{value}']").check()
        elif kind == "file":
            first.set_input_files(value)
        else:
            first.fill(str(value))


def submit(page, name: str | None = None) -> None:
    """Click the form's primary button (or the button called ``name``) and wait for the next page."""
    button = page.get_by_role("button", name=name, exact=True) if name else page.locator("main form button.primary")
    with page.expect_navigation():
        button.first.click()
