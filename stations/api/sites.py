"""``/api/v1/sites/``: depots, their power now against the limit, and the load balancing
decisions (written through ``stations.sites``)."""

from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from stations import sites
from stations.models import LoadBalancingDecision, Site
from supervision.api import (
    CompanyScopedSerializerMixin,
    CompanyScopedViewSetMixin,
    DeletedThroughServiceMixin,
    ModelValidationMixin,
    ProtectedDestroyMixin,
    WrittenThroughServiceSerializerMixin,
)

DECISIONS_SHOWN = 20


class SiteSerializer(
    CompanyScopedSerializerMixin,
    WrittenThroughServiceSerializerMixin,
    ModelValidationMixin,
    serializers.ModelSerializer,
):
    stations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Site
        fields = [
            "id",
            "company",
            "name",
            "address",
            "time_zone",
            "grid_limit_kw",
            "amperes_per_phase",
            "stations",
            "created_at",
        ]

    def save_through(self, instance, many_to_many):
        return sites.site_save(site=instance)


class LoadBalancingDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = LoadBalancingDecision
        fields = ["id", "trigger", "limit_w", "allocated_w", "allocations", "created_at"]


class SitePowerSerializer(serializers.Serializer):
    power_w = serializers.DecimalField(max_digits=12, decimal_places=1)
    limit_w = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    at = serializers.DateTimeField()
    connectors = serializers.ListField(child=serializers.DictField())


class SiteViewSet(
    CompanyScopedViewSetMixin,
    ProtectedDestroyMixin,
    DeletedThroughServiceMixin,
    viewsets.ModelViewSet,
):
    """Sites. ``power``: the power now against the limit, per charging connector;
    ``decisions``: the last load balancing decisions (who got how much, when, why)."""

    queryset = Site.objects.prefetch_related("stations")
    serializer_class = SiteSerializer
    filterset_fields = ["company", "name"]

    def delete_through(self, instance):
        sites.site_delete(site=instance)

    @action(detail=True, methods=["get"], serializer_class=SitePowerSerializer)
    def power(self, request, pk=None):
        return Response(SitePowerSerializer(sites.site_power_now(site=self.get_object())).data)

    @action(detail=True, methods=["get"], serializer_class=LoadBalancingDecisionSerializer)
    def decisions(self, request, pk=None):
        decisions = self.get_object().decisions.all()[:DECISIONS_SHOWN]
        return Response(LoadBalancingDecisionSerializer(decisions, many=True).data)
