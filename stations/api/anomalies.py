"""``/api/v1/transaction-anomalies/``: what stations sent that was odd, read-only, as the admin's
*Stations → Transaction anomalies* shows it."""

import django_filters
from rest_framework import pagination, serializers, viewsets

from stations.models import TransactionAnomaly
from supervision.api import CompanyScopedViewSetMixin


class TransactionAnomalySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = TransactionAnomaly
        fields = [
            "id",
            "kind",
            "kind_label",
            "station",
            "session",
            "transaction_id",
            "details",
            "occurrences",
            "created_at",
            "last_seen_at",
            "resolved_at",
        ]


class TransactionAnomalyFilter(django_filters.FilterSet):
    resolved = django_filters.BooleanFilter(
        field_name="resolved_at",
        lookup_expr="isnull",
        exclude=True,
        label="true: resolved only; false: not resolved only.",
    )
    seen_after = django_filters.IsoDateTimeFilter(
        field_name="last_seen_at", lookup_expr="gte", label="Last seen at or after (ISO 8601)."
    )
    seen_before = django_filters.IsoDateTimeFilter(
        field_name="last_seen_at", lookup_expr="lt", label="Last seen before (ISO 8601)."
    )

    class Meta:
        model = TransactionAnomaly
        fields = ["kind", "station", "session", "resolved", "seen_after", "seen_before"]


class AnomalyPagination(pagination.PageNumberPagination):
    # Bounded: a page of every anomaly ever recorded would be one huge answer.
    page_size_query_param = "page_size"
    max_page_size = 500


class TransactionAnomalyViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Anomalies at the stations the user sees, most recently seen first. Filters: ``kind``,
    ``station``, ``session``, ``resolved``, ``seen_after``, ``seen_before``; ``page_size`` up to
    500."""

    queryset = TransactionAnomaly.objects.all()
    serializer_class = TransactionAnomalySerializer
    filterset_class = TransactionAnomalyFilter
    pagination_class = AnomalyPagination
