"""The test suite's settings: the project's, with a secret key of the suite's own when the
environment gives none, so that the suite also runs on PostgreSQL and Redis (where the settings
refuse to start without one). Set in the environment, the server processes of the end-to-end
tests inherit it."""

import os
import secrets
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", f"test-suite-{secrets.token_urlsafe(32)}")
# Stations' log uploads land outside the source tree (the e2e servers inherit it).
os.environ.setdefault("OCPP_UPLOAD_ROOT", tempfile.mkdtemp(prefix="ocpp-uploads-"))
# The webhook receivers of the tests listen on 127.0.0.1 (the e2e servers inherit it too).
os.environ.setdefault("WEBHOOKS_ALLOW_LOCAL_ADDRESSES", "true")

from supervision.settings import *  # noqa: F403
