"""What every REST endpoint shares: model validation, refused deletes, service errors, action
permissions and the staff token view."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.response import Response


class ModelValidationMixin:
    """Run the model's own ``full_clean`` so the API enforces exactly what the admin does, and
    keep what ``clean`` normalised (canonical RFID, default visual number…)."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        many_to_many = {
            field.name for field in self.Meta.model._meta.many_to_many if field.name in attrs
        }
        plain = {key: value for key, value in attrs.items() if key not in many_to_many}
        model = self.Meta.model
        if self.instance is None:
            instance = model(**plain)
        else:
            # Validate a fresh copy: a refused update must not leave the instance half-changed.
            instance = model.objects.get(pk=self.instance.pk)
            for key, value in plain.items():
                setattr(instance, key, value)
        fields = instance._meta.concrete_fields
        before = {field.attname: getattr(instance, field.attname) for field in fields}
        try:
            instance.full_clean(exclude=many_to_many)
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from None
        # Keep what the client sent, normalised, and what ``clean`` filled in by itself (a
        # default visual number or description the client left out).
        for field in fields:
            sent = field.name in plain or field.attname in plain
            if sent or getattr(instance, field.attname) != before[field.attname]:
                attrs[field.name] = getattr(instance, field.name)
        return attrs


class StillReferenced(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This object is still referenced by other records and cannot be deleted.")
    default_code = "protected"


class ProtectedDestroyMixin:
    """A delete the database refuses (``on_delete=PROTECT``) is a 409, not a server error."""

    def perform_destroy(self, instance):
        try:
            super().perform_destroy(instance)
        except (ProtectedError, RestrictedError) as error:
            referenced = sorted({str(obj._meta.verbose_name_plural) for obj in error.args[1]})
            raise StillReferenced(
                _("Cannot delete %(object)s: still referenced by %(related)s.")
                % {"object": instance, "related": ", ".join(referenced)}
            ) from None


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The object is not in a state that allows this.")
    default_code = "conflict"


# Codes of service errors that are about the object's state, not the request: retrying the same
# request cannot succeed (already enrolled, station already armed).
CONFLICT_CODES = frozenset({"enrolled", "armed"})
# A message-only service error that a request field answers: reported on that field.
FIELD_OF_CODE = {"shared_mac": "acknowledge_shared_mac"}


def api_error(error: DjangoValidationError) -> APIException:
    """The DRF error for a service's ``ValidationError`` (``EnrolmentError`` included):

    - codes in ``CONFLICT_CODES`` → 409 ``{"detail": message}``;
    - ``shared_mac`` → 400 ``{"acknowledge_shared_mac": [message]}``, the field that overrides it;
    - anything else → 400, keyed by field (``non_field_errors`` for a bare message).
    """
    code = getattr(error, "code", None)
    if code in CONFLICT_CODES:
        return Conflict(" ".join(error.messages), code=code)
    if code in FIELD_OF_CODE:
        return serializers.ValidationError({FIELD_OF_CODE[code]: error.messages}, code=code)
    return serializers.ValidationError(serializers.as_serializer_error(error))


@contextmanager
def service_errors() -> Iterator[None]:
    """Wrap a service call in a view or serializer: its refusals become DRF errors."""
    try:
        yield
    except DjangoValidationError as error:
        raise api_error(error) from None


def action_permission(*perms: str) -> type[BasePermission]:
    """The permission of an ``@action`` route (enrol, dismiss, pairing): staff holding every one
    of ``perms``, whatever the HTTP method. Actions change the object in the URL, so they name
    its model's ``change`` permission, plus ``badges.add_badge`` where they make a badge."""

    class ActionPermission(BasePermission):
        def has_permission(self, request, view) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.is_staff and user.has_perms(perms))

    return ActionPermission


class StaffAuthTokenSerializer(AuthTokenSerializer):
    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not attrs["user"].is_staff:
            raise serializers.ValidationError(
                _("Only staff accounts may use the API."), code="authorization"
            )
        return attrs


class ObtainStaffToken(ObtainAuthToken):
    """``POST {"username", "password"}`` → ``{"token"}`` for staff accounts."""

    serializer_class = StaffAuthTokenSerializer

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
