import django_filters
from rest_framework import viewsets

from badges import access
from badges.api.serializers import (
    BadgeSerializer,
    PairingWindowSerializer,
    SharedMacModelSerializer,
)
from badges.identifiers import IdTagError, normalize_id_tag
from badges.imports import BadgeImportResource
from badges.models import Badge, PairingWindow, SharedMacModel
from supervision.api import (
    CompanyScopedViewSetMixin,
    DeletedThroughServiceMixin,
    ProtectedDestroyMixin,
)
from supervision.archiving_api import ArchiveInsteadOfDestroyMixin
from supervision.history_api import ChangeHistoryViewSetMixin
from supervision.imports_api import ImportViewSetMixin


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


class BadgeViewSet(
    CompanyScopedViewSetMixin,
    ChangeHistoryViewSetMixin,
    ImportViewSetMixin,
    ArchiveInsteadOfDestroyMixin,
    ProtectedDestroyMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    queryset = Badge.objects.select_related("enrolled_by").prefetch_related("groups")
    serializer_class = BadgeSerializer
    filterset_class = BadgeFilter
    import_resource_class = BadgeImportResource

    def delete_through(self, instance):
        access.badge_delete(badge=instance)


class PairingWindowViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = PairingWindow.objects.select_related("opened_by")
    serializer_class = PairingWindowSerializer
    filterset_fields = ["station", "vehicle"]


class SharedMacModelViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = SharedMacModel.objects.all()
    serializer_class = SharedMacModelSerializer
