"""The portal's two companies (``tests.portal.conftest``): a staff user of the first."""

from tests.portal.conftest import alpha, alpha_client, alpha_staff, beta  # noqa: F401
