from __future__ import annotations

import pytest

from delegate.tasks.categories import ensure_default_categories
from delegate.testing import Cast


@pytest.fixture
def triage_cast(cast: Cast) -> Cast:
    """The cast with the default categories in both agencies (as create_agency makes)."""
    ensure_default_categories(cast.agency_a)
    ensure_default_categories(cast.agency_b)
    return cast
