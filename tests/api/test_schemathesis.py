"""Schemathesis against the API's own OpenAPI document, in process: every operation, positive
and negative data, anonymous and with a staff token on real items; no answer may be a 5xx, and
positive answers must match the documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.library import bearer

EXAMPLES_PER_RUN = 6  # 44 runs: about 220 requests, under 40 s on two cores
DOCUMENT = "/api/v1/openapi.json"


def real_parameters(library) -> dict[str, object]:
    return {"handle": library.view_only, "slug": "xem", "batch_id": library.batch_id,
            "file_id": library.files[f"{library.view_only}.derivative1"]}


def profiles(library):
    """Who calls, and with which path parameters (generated ones or those of real things)."""
    return [("anonymous", {}, {}),
            ("staff", bearer(library.staff_token), real_parameters(library))]


def fuzz(operation, mode, headers, parameters, counter) -> None:
    wanted = {name: value for name, value in parameters.items()
              if name in {p.name for p in operation.path_parameters}}
    checks = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:
        checks.append(response_schema_conformance)

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=wanted or None))
    @settings(max_examples=EXAMPLES_PER_RUN, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        counter.append(operation.label)
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks, headers=headers)

    try:
        run()
    except Unsatisfiable:
        # Nothing left to make invalid: every parameter of this call is fixed or absent.
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.slow
def test_no_server_errors_anywhere(app, library):
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11
    counter: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for _who, headers, parameters in profiles(library):
                fuzz(operation, mode, headers, parameters, counter)
    print(f"schemathesis: {len(counter)} examples over {len(set(counter))} operations, "
          "no server errors")
    assert len(set(counter)) == len(operations)
