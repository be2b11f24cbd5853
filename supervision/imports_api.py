"""The REST side of ``supervision.imports``: ``POST …/import/`` on a viewset, a multipart file
and ``dry_run``, answering every row's outcome. Apart from ``supervision.api`` for the same
reason as ``supervision.history_api`` (schema decorators, imported early by DRF's settings)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from supervision.api import action_permission
from supervision.imports import (
    ImportFileError,
    base_errors,
    dataset_from_upload,
    is_valid,
    row_outcomes,
)


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("A .csv (UTF-8, “,” or “;”) or .xlsx file."))
    dry_run = serializers.BooleanField(
        default=False,
        help_text=_("true: check every row and answer what would happen, writing nothing."),
    )


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("1 is the first row under the column headers."))
    outcome = serializers.ChoiceField(choices=["created", "updated", "error"])
    key = serializers.CharField(help_text=_("The row's plate or RFID, in canonical form."))
    id = serializers.IntegerField(
        source="object_id", allow_null=True, help_text=_("The object's id, once written.")
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages by column (“non_field_errors” for the row as a whole)."),
    )


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    written = serializers.BooleanField(help_text=_("Whether the rows were saved: all or none."))
    totals = serializers.DictField(child=serializers.IntegerField())
    rows = ImportRowSerializer(many=True)
    errors = serializers.ListField(
        child=serializers.CharField(), help_text=_("What stopped the whole file, if anything.")
    )


class ImportViewSetMixin:
    """``POST …/import/`` with ``import_resource_class`` (a ``ScopedImportResource``). Needs the
    model's add and change permissions; a company user imports into their company only."""

    import_resource_class = None

    def get_permissions(self):
        if self.action == "bulk_import":
            meta = self.queryset.model._meta
            perms = [f"{meta.app_label}.{verb}_{meta.model_name}" for verb in ("add", "change")]
            return [action_permission(*perms)()]
        return super().get_permissions()

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={200: ImportResultSerializer, 400: ImportResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
        serializer_class=ImportRequestSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def bulk_import(self, request):
        """Import a CSV or Excel file, all or nothing: 200 when every row is valid (written
        unless ``dry_run``), 400 with every row's outcome when any is not (nothing written),
        or with ``errors`` when the file itself cannot be read. ``rows`` lists each row:
        ``created``, ``updated`` or ``error`` with its messages by column, in the user's
        language (``Accept-Language``)."""
        form = ImportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        dry_run = form.validated_data["dry_run"]
        try:
            dataset = dataset_from_upload(form.validated_data["file"])
        except ImportFileError as error:
            return self._import_answer(dry_run, written=False, errors=[str(error)])
        resource = self.import_resource_class(user=request.user)
        result = resource.import_data(dataset, dry_run=dry_run, user=request.user)
        written = is_valid(result) and not dry_run
        # A file wrong as a whole (a missing key column) makes every row wrong: say it once.
        rows = [] if result.base_errors else row_outcomes(result, resource, written=written)
        return self._import_answer(
            dry_run, written=written, rows=rows, errors=base_errors(result), valid=is_valid(result)
        )

    def _import_answer(self, dry_run, *, written, rows=(), errors=(), valid=False):
        totals = {outcome: 0 for outcome in ("created", "updated", "error")}
        for row in rows:
            totals[row.outcome] += 1
        body = {
            "dry_run": dry_run,
            "written": written,
            "totals": totals,
            "rows": rows,
            "errors": list(errors),
        }
        answer = status.HTTP_200_OK if valid and not errors else status.HTTP_400_BAD_REQUEST
        return Response(ImportResultSerializer(body).data, status=answer)
