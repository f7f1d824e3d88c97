"""The storage error hint names the real cause: Azurite refusing the SDK's API version, or permissions."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from monitoring.errors import ConfigurationError
from monitoring.interfaces.cli_remote import _storage_errors


@pytest.mark.parametrize(("message", "hint"), [
    ("The API version 2026-10-06 is not supported by Azurite. Please upgrade Azurite", "--skipApiVersionCheck"),
    ("This request is not authorized to perform this operation using this permission.",
     "Storage Blob Data Contributor"),
])
def test_hint_names_the_cause(message: str, hint: str) -> None:
    with pytest.raises(ConfigurationError) as info, _storage_errors():
        raise HttpResponseError(message=message)
    assert hint in str(info.value)
    assert ("Storage Blob Data Contributor" in str(info.value)) is (hint == "Storage Blob Data Contributor")
