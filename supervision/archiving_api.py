"""The REST side of ``supervision.archiving``: records with history are archived, not deleted.
Apart from ``supervision.api`` because the schema tools it uses cannot load with the settings."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from supervision import archiving
from supervision.api import Conflict, action_permission


class ArchiveInsteadOfDestroyMixin:
    """Records with charging history are archived, not deleted (``supervision.archiving``):
    a staff user's DELETE of one is a 409 saying to archive it; ``POST …/archive/`` archives
    and ``POST …/restore/`` offers it again (both need the model's change permission and
    answer the object). Superusers still delete. Put it before ``ProtectedDestroyMixin``."""

    def perform_destroy(self, instance):
        if archiving.refused_deletes(self.request.user, [instance]):
            how = f"POST {self.reverse_action('archive', args=[instance.pk])}"
            message = archiving.delete_refused_message([instance], how=how)
            raise Conflict(message, code="history")
        super().perform_destroy(instance)

    def _save_through_service(self, instance) -> None:
        self.get_serializer().save_through(instance, {})

    def get_permissions(self):
        if self.action in ("archive", "restore"):
            meta = self.queryset.model._meta
            return [action_permission(f"{meta.app_label}.change_{meta.model_name}")()]
        return super().get_permissions()

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive: it stops charging and is offered nowhere; its history stays."""
        instance = self.get_object()
        archiving.archive(instance=instance, save=self._save_through_service)
        return Response(self.get_serializer(instance).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Offer it again; what archiving disabled stays disabled until enabled."""
        instance = self.get_object()
        archiving.restore(instance=instance, save=self._save_through_service)
        return Response(self.get_serializer(instance).data)
