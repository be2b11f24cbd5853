import django_filters
from rest_framework import viewsets

from badges.api.serializers import BadgeSerializer
from badges.identifiers import IdTagError, normalize_id_tag
from badges.models import Badge
from supervision.api import ProtectedDestroyMixin


def filter_id_tag(queryset, name: str, value: str):
    """Match a tag the way stations are matched: ``vid:a0:14:…`` finds ``VID:A014…``."""
    try:
        value = normalize_id_tag(value)
    except IdTagError:
        value = value.strip().upper()
    return queryset.filter(**{name: value})


class BadgeFilter(django_filters.FilterSet):
    rfid = django_filters.CharFilter(method=filter_id_tag)

    class Meta:
        model = Badge
        fields = ["rfid", "state", "type", "company", "vehicle", "mode", "usage"]


class BadgeViewSet(ProtectedDestroyMixin, viewsets.ModelViewSet):
    queryset = Badge.objects.prefetch_related("groups")
    serializer_class = BadgeSerializer
    filterset_class = BadgeFilter
