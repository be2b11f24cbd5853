"""What every REST endpoint shares: company scoping, model validation, refused deletes, service
errors, action permissions and the staff token view."""

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from supervision import archiving, tenancy
from supervision.security import ClientAddressThrottle


class CompanyScopedViewSetMixin:
    """Every request of the view reads through ``supervision.tenancy``: a staff user who is not a
    superuser lists, reads, filters, changes, deletes and acts on only their company's objects;
    another company's object by id is a 404, like one that does not exist."""

    def get_queryset(self):
        return tenancy.scope(super().get_queryset(), self.request.user)


class CompanyScopedSerializerMixin:
    """Every writable relation accepts only the objects the requesting user sees, plus those the
    object already points at: naming another company's vehicle, station or company is a 400
    "Invalid pk", as for one that does not exist."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        instance = self.instance if isinstance(self.instance, Model) else None
        for name, field in fields.items():
            relation = getattr(field, "child_relation", field)
            if field.read_only or getattr(relation, "queryset", None) is None:
                continue
            keep = tenancy.current_pks(instance, field.source or name)
            choices = archiving.unarchived(relation.queryset)  # unless already pointed at
            relation.queryset = tenancy.scope_choices(choices, user, keep=keep)
        return fields


class CompanyScopedFilterBackend(DjangoFilterBackend):
    """django-filter, choosing related objects among those the user sees: filtering on another
    company's id is a 400 "Select a valid choice", as for an id that does not exist."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for field in filterset.form.fields.values():
                if isinstance(field, forms.ModelChoiceField):
                    field.queryset = tenancy.scope(field.queryset, request.user)
        return filterset


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


class WrittenThroughServiceSerializerMixin:
    """``create`` and ``update`` build the instance as DRF would, then hand it, with its
    many-to-many values, to the model's service (``save_through(instance, many_to_many)``):
    the API's writes have the same side effects as the admin's and the gateway's."""

    def save_through(self, instance: Model, many_to_many: dict) -> Model:
        raise NotImplementedError

    def _split(self, validated_data: dict) -> tuple[dict, dict]:
        many = {f.name for f in self.Meta.model._meta.many_to_many}
        return (
            {k: v for k, v in validated_data.items() if k not in many},
            {k: v for k, v in validated_data.items() if k in many},
        )

    def create(self, validated_data):
        fields, many_to_many = self._split(validated_data)
        return self.save_through(self.Meta.model(**fields), many_to_many)

    def update(self, instance, validated_data):
        fields, many_to_many = self._split(validated_data)
        for name, value in fields.items():
            setattr(instance, name, value)
        return self.save_through(instance, many_to_many)


class DeletedThroughServiceMixin:
    """A viewset's DELETE goes through the model's service (``delete_through(instance)``).
    Listed after ``ProtectedDestroyMixin``, whose refusal it keeps."""

    def delete_through(self, instance: Model) -> None:
        raise NotImplementedError

    def perform_destroy(self, instance) -> None:
        self.delete_through(instance)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The object is not in a state that allows this.")
    default_code = "conflict"


# Codes of service errors that are about the object's state, not the request: retrying the same
# request cannot succeed (already enrolled, station already armed).
CONFLICT_CODES = frozenset({"enrolled", "armed", "closed", "active"})
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


class TokenRateThrottle(ClientAddressThrottle):
    """Password guesses at the token endpoint, per client address, signed in or not."""

    scope = "token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LockedOut(APIException):
    """As the admin's login page answers a locked-out login (django-axes)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("Too many failed login attempts: try again later.")
    default_code = "locked_out"


class ObtainStaffToken(ObtainAuthToken):
    """``POST {"username", "password"}`` → ``{"token"}`` for staff accounts. Failures count
    towards the login lockout (django-axes, like the admin's login page): once locked out, even
    the right password gets a 429."""

    serializer_class = StaffAuthTokenSerializer
    throttle_classes = [TokenRateThrottle]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # django-axes flags the request it was given: DRF's, which wraps Django's.
        if getattr(request, "axes_locked_out", False):
            raise LockedOut()
        if not valid:
            raise serializers.ValidationError(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
