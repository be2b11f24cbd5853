import django_filters
from rest_framework import viewsets

from badges.api.views import filter_id_tag
from ocpp_gateway.api.serializers import OcppMessageSerializer
from ocpp_gateway.models import OcppMessage
from supervision.api import CompanyScopedViewSetMixin


class OcppMessageFilter(django_filters.FilterSet):
    id_tag = django_filters.CharFilter(method=filter_id_tag)

    class Meta:
        model = OcppMessage
        fields = ["station", "charge_point_id", "action", "status", "id_tag", "direction", "reason"]


class OcppMessageViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = OcppMessage.objects.all()
    serializer_class = OcppMessageSerializer
    filterset_class = OcppMessageFilter
