from __future__ import annotations

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ocpp_gateway.models import LogStatus


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        # The browser's date picker reads and writes ISO dates whatever the language.
        super().__init__(format="%Y-%m-%d", **kwargs)


# A report's period lies within these: the calendar's ends (year 1, 9999) would overflow the
# time-zone arithmetic of the query (a 500), and no session is that old or that far ahead.
REPORT_EARLIEST = date(2000, 1, 1)
REPORT_LATEST = date(2999, 12, 31)


def _report_date(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=DateInput(),
        validators=[MinValueValidator(REPORT_EARLIEST), MaxValueValidator(REPORT_LATEST)],
    )


class ReportPeriodForm(forms.Form):
    start = _report_date(_("From"))
    end = _report_date(_("To (included)"))

    @staticmethod
    def this_month() -> dict[str, date]:
        today = timezone.localdate()
        return {"start": today.replace(day=1), "end": today}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The period must start before it ends."))
        return cleaned


class StatementForm(ReportPeriodForm):
    """A vehicle the viewer sees, and a period."""

    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=None)
    field_order = ["vehicle", "start", "end"]

    def __init__(self, *args, vehicles, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = vehicles


class MessageLogFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *LogStatus.choices]
    )
    id_tag = forms.CharField(label=_("Id tag contains"), required=False, max_length=64)

    def __init__(self, *args, actions: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any")), *((action, action) for action in actions)]

    def filter(self, messages):
        if not self.is_valid():
            return messages
        data = self.cleaned_data
        if data["action"]:
            messages = messages.filter(action=data["action"])
        if data["status"]:
            messages = messages.filter(status=data["status"])
        if data["id_tag"]:
            messages = messages.filter(id_tag__icontains=data["id_tag"].strip())
        return messages
