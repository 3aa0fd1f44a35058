"""The facade's own behaviour, without models."""

from assistant.core import Assistant
from assistant.settings import IndexSettings
from tests.conftest import make_settings


def test_status_names_the_configured_vector_store(tmp_path):
    for chroma in ("embedded", "127.0.0.1:8000"):
        helper = Assistant(make_settings(tmp_path / chroma.replace(":", "_"), index=IndexSettings(chroma=chroma)))
        assert helper.status(check_backends=False)["backends"]["vector_store"] == chroma
