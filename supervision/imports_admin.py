"""The admin side of ``supervision.imports``: an *Import* button on a list, a preview of every
row's outcome that writes nothing, a confirmation, and the empty templates to fill in."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext
from import_export.admin import ImportMixin

from supervision.imports import IMPORT_FORMATS, import_template, is_valid, row_outcomes

TEMPLATE_FORMATS = ("csv", "xlsx")


class ImportAdminMixin(ImportMixin):
    """django-import-export's import pages, for the user's company (the resource reads the
    user), all or nothing, listing every row. Needs ``resource_classes`` (one) and
    ``import_filename`` (the templates' file name). Put it before ``admin.ModelAdmin``."""

    formats = IMPORT_FORMATS
    import_template_name = "admin/import_with_outcomes.html"
    import_filename = "import"

    def has_import_permission(self, request) -> bool:
        # An import creates and updates: both permissions, and the tenancy rules behind them.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_urls(self):
        return [
            path(
                "import/template.<str:file_format>",
                self.admin_site.admin_view(self.import_template_view),
                name=self._url_name("import_template"),
            ),
            *super().get_urls(),
        ]

    def import_template_view(self, request, file_format: str):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if file_format not in TEMPLATE_FORMATS:
            raise Http404
        resource_class = self.get_import_resource_classes(request)[0]
        return import_template(resource_class, file_format, filename=self.import_filename)

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = response.context_data
        name = f"admin:{self._url_name('import_template')}"
        context["import_templates"] = [
            (file_format.upper(), reverse(name, args=[file_format]))
            for file_format in TEMPLATE_FORMATS
        ]
        result = context.get("result")
        if result is not None:
            resource = self.get_import_resource_classes(request)[0](user=request.user)
            context["row_outcomes"] = row_outcomes(result, resource, written=False)
        return response

    def process_result(self, result, request):
        if not is_valid(result):
            # The file was valid at the preview but not any more (someone changed the records
            # meanwhile): the transaction was rolled back.
            self.message_user(
                request,
                gettext("Nothing was imported: rows no longer pass validation. Preview it again."),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse(f"admin:{self._url_name('import')}"))
        return super().process_result(result, request)
