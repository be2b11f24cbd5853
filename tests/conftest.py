import pytest


@pytest.fixture(autouse=True)
def english_by_default(settings):
    """Messages asserted in English unless a test asks for French."""
    settings.LANGUAGE_CODE = "en"
