"""What every REST endpoint shares: model validation and the staff token view."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
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
        try:
            instance.full_clean(exclude=many_to_many)
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from None
        for field in instance._meta.concrete_fields:
            if field.name in plain or field.attname in plain:
                attrs[field.name] = getattr(instance, field.name)
        return attrs


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
