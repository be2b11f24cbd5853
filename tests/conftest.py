import pytest


@pytest.fixture(autouse=True)
def english_by_default(settings):
    """Messages asserted in English unless a test asks for French."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing costs ~0.3 s per user; the tests check permissions, not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
