"""What every REST endpoint shares: model validation, refused deletes and the staff token
view."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException
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
