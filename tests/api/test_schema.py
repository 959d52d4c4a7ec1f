"""Schemathesis against /api/openapi.json on the running server: a few generated cases per operation,
with a fixed seed (derandomized), as the admin's key. No response may be a 5xx, and every response must
match the schema: its status documented, its body the documented model."""

from __future__ import annotations

from typing import Any

import pytest

EXAMPLES = 4

Desk = Any  # tests/api/conftest.py


@pytest.mark.parametrize("api_db_url", ["sqlite"], indirect=True)
def test_generated_requests_get_no_5xx_and_match_the_schema(api: Desk) -> None:
    # Imported here, not at the top: every xdist worker collects this file, and schemathesis with
    # hypothesis costs ~0.5 s of CPU to import while only the worker running this one test needs them.
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

    schema = schemathesis.openapi.from_url(f"{api.url}/api/openapi.json")
    headers = {"Authorization": f"Bearer {api.keys['root']}"}
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            case.call_and_validate(base_url=api.url, headers=headers, checks=checks)

        run()
