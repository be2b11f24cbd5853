"""The ``history`` route every viewset of a tracked model shares (``supervision.history``).

Apart from ``supervision.api``, which DRF's settings import early (its filter backend): the
schema decorators here import DRF's generic views, a circular import there."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from supervision import history


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.JSONField(help_text=_("Stored value: a related object's id, ids for a list."))
    new = serializers.JSONField()
    old_display = serializers.CharField()
    new_display = serializers.CharField()


class HistoryEntrySerializer(serializers.Serializer):
    """One recorded change of an object (``supervision.history``)."""

    id = serializers.IntegerField(source="record.history_id")
    at = serializers.DateTimeField(source="record.history_date")
    type = serializers.ChoiceField(source="kind", choices=history.EntryKind.choices)
    source = serializers.ChoiceField(
        source="record.history_source", choices=history.ChangeSource.choices
    )
    user = serializers.CharField(
        source="record.history_user.get_username", default=None, allow_null=True
    )
    changes = FieldChangeSerializer(many=True)


class ChangeHistoryViewSetMixin:
    """``GET …/{id}/history/``: the object's recorded changes, newest first, paginated, each with
    who, when, through what (``admin``, ``api``, ``enrolment``, ``pairing``, ``import``,
    ``system``) and every field's old and new value. The object is found as by the detail
    route: another company's is a 404; reading needs the model's view permission."""

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(
        detail=True, methods=["get"], serializer_class=HistoryEntrySerializer, filter_backends=[]
    )
    def history(self, request, pk=None):
        """The object's recorded changes, newest first, paginated: who, when, through what
        (``admin``, ``api``, ``enrolment``, ``pairing``, ``system``) and each changed field's
        old and new value (``old``/``new`` as stored, ``old_display``/``new_display`` as shown
        to people). Another company's object is a 404."""
        records = history.history_of(self.get_object())
        page = self.paginate_queryset(records)
        records = list(records if page is None else page)
        before_page = records[-1].prev_record if records else None
        entries = history.history_pages(records, before_page)
        data = HistoryEntrySerializer(entries, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)
