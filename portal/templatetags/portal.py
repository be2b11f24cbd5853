from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext

from badges.authorization import Reason
from badges.identifiers import mac_of
from ocpp_gateway.admin import new_badge_url
from portal import exports, selectors
from stations.models import SecurityEventKind
from supervision.ocpp_labels import LABELS, ocpp_label_html
from supervision.stored_text import stored_text_display

register = template.Library()


@register.filter
def kwh(energy_wh: int | None) -> str:
    """Wh as kWh with one decimal, in the page's number format; a dash when unknown."""
    if energy_wh is None:
        return "–"
    return number_format(energy_wh / 1000, decimal_pos=1)


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    """The current URL's query (filters included) with another page number."""
    query = context["request"].GET.copy()
    query["page"] = number
    return f"?{query.urlencode()}"


@register.simple_tag(takes_context=True)
def sort_header(context, form, key: str, label: str) -> str:
    """A column header that sorts the list by ``key`` (again: the other way), keeping the
    search and filters, back to the first page."""
    query = context["request"].GET.copy()
    query.pop("page", None)
    current = form.sort()
    direction = {key: "ascending", f"-{key}": "descending"}.get(current)
    query["sort"] = f"-{key}" if current == key else key
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(direction, "")
    return format_html(
        '<th scope="col"{}><a href="?{}">{}{}</a></th>',
        format_html(' aria-sort="{}"', direction) if direction else "",
        query.urlencode(),
        label,
        arrow,
    )


@register.filter
def reason_label(reason: str) -> str:
    """A refusal reason as staff read it (sightings store the bare code)."""
    return Reason(reason).label if reason in Reason.values else reason


@register.filter
def create_badge_url(id_tag: str, refused_at: int | None = None) -> str:
    """The admin's badge form pre-filled for a vehicle's tag, as the seed's procedure says
    (company and provider from the refusing station ``refused_at``, until a vehicle is chosen);
    empty for a tag that names no vehicle (an RFID card)."""
    return new_badge_url(id_tag, refused_at=refused_at) if mac_of(id_tag) else ""


@register.simple_tag
def open_badge_url(badge_id: int, reason: str, refused_at: int | None = None) -> str:
    """The badge's admin page; for a badge refused as not permitted at the station, the page
    then says why and offers to add the station to one of the company's groups."""
    url = reverse("admin:badges_badge_change", args=[badge_id])
    if reason == Reason.NOT_PERMITTED_AT_STATION and refused_at:
        url = f"{url}?{urlencode({'refused_at': refused_at})}"
    return url


@register.filter
def ocpp_label(value: str | None) -> str:
    """What a station sent (a status, an error code, a stop reason) in the page's language,
    the raw value in its tooltip; a dash when it sent nothing."""
    return ocpp_label_html(value) or "–"


@register.filter
def stored_text(text: str | None) -> str:
    """A sentence the gateway stored in English (a station's Autocharge detail), in the page's
    language."""
    return stored_text_display(text)


@register.simple_tag
def live_messages() -> dict:
    """What portal.js writes in the activity feed for each live event, in the page's
    language; placeholders are the event's fields."""
    return {
        "events": {
            "station_connected": gettext("%(station)s is online"),
            "station_disconnected": gettext("%(station)s went offline"),
            "connector_status": gettext("%(station)s, connector %(connector_id)s: %(status)s"),
            "session_started": gettext(
                "%(vehicle)s started charging at %(station)s, connector %(connector_id)s"
            ),
            "session_stopped": gettext(
                "%(vehicle)s stopped charging at %(station)s: %(energy)s kWh"
            ),
            "vehicle_refused": gettext("%(id_tag)s refused at %(station)s: %(reason)s"),
            "security_event": gettext("Security event at %(station)s: %(security_kind)s"),
        },
        "anonymous": gettext("An anonymous vehicle"),
        "reasons": {value: str(label) for value, label in Reason.choices},
        "security_kinds": {value: str(label) for value, label in SecurityEventKind.choices},
        "statuses": {value: str(label) for value, label in LABELS.items()},
        "live": gettext("Live updates: on"),
        "offline": gettext("Live updates: reconnecting…"),
    }


@register.filter
def energy_so_far(session) -> int | None:
    return selectors.energy_so_far(session)


@register.filter
def usage_label(usage: str | None) -> str:
    return exports.usage_label(usage)


@register.filter
def costs(amounts: list[tuple[str, object]] | None) -> str:
    """Summed costs per currency in the page's number format ("12,50 EUR + 3,00 CHF"); a dash
    when no session had a cost."""
    return exports.costs_text(amounts or [], localized=True)


@register.filter
def session_cost(session) -> str:
    """A session's cost as kept at its stop; a dash without one (no tariff, energy unknown)."""
    if session.cost is None:
        return "—"
    return exports.costs_text([(session.cost_currency, session.cost)], localized=True)
