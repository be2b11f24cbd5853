"""REST permissions, kept apart from views so settings can import them early."""

from rest_framework import permissions

from supervision import tenancy


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff only, and like the admin: reading needs the view permission, writing the
    add/change/delete one."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    # What each writing method does, for the writes only superusers make (``tenancy``).
    write_actions = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        if not super().has_permission(request, view):
            return False
        action = self.write_actions.get(request.method)
        if action is None or getattr(view, "_ignore_model_permissions", False):
            return True
        return tenancy.may_write(user, self._queryset(view).model, action)


class StaffPermission(permissions.BasePermission):
    """Staff holding one named permission (``permission``, set by subclasses), whatever the
    view's model: for operations that are not edits of the model they are attached to."""

    permission = ""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.is_staff and user.has_perm(self.permission)
        )
