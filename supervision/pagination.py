"""Pages whose size the client may choose, within bounds: an out-of-range ``page_size`` is a 400
that says the range, never silently replaced by the default or the maximum."""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class BoundedPageSizePagination(PageNumberPagination):
    """``page_size`` from 1 to ``max_page_size`` (the configured page size without it)."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Send a whole number from 1 to %(maximum)d.")
                        % {"maximum": self.max_page_size}
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
                parameter["description"] = _(
                    "Results per page, from 1 to %(maximum)d (default %(default)d); a value "
                    "outside is a 400."
                ) % {"maximum": self.max_page_size, "default": self.page_size}
        return parameters
