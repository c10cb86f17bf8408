"""Schemathesis over the whole API (/openapi.json) of an app serving the real index: for every operation a
bounded, reproducible set of generated requests, valid and invalid, must get no server error, and every
response must be documented — its status code, content type, headers and body schema.

The server has an API key that the generated requests do not carry, so the write operations (upload,
delete, reindex, and the job listings that need the key too) answer 401 to all of them: fuzzing checks those
refusals against the schema and cannot delete the index's documents or start reindex jobs (a reindex
re-embeds the corpus with the real models, half a minute or more each). Their validation runs in
test_security.py and test_uploads.py.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from policyqa.service import QAService
from server.app import create_app

MAX_EXAMPLES = 25  # per operation and kind (valid, invalid): about a minute in all
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def api(real_index, tmp_path_factory):
    """The app over the real index, with a data dir of its own (feedback lands there), an API key, and no
    rate limit (the generated requests would soon use it up and test only the 429)."""
    app_settings = real_index.settings.model_copy(update={
        "data_dir": tmp_path_factory.mktemp("schemathesis"), "api_key": "not-sent-by-the-fuzzer",
        "rate_limit_per_minute": 0})
    app = create_app(QAService(app_settings, real_index.embedder, real_index.index), app_settings)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def examples_of(operation, mode: GenerationMode) -> list[str]:
    """Run `max_examples` generated requests of one kind against one operation; the failures found."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        case.call_and_validate(checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # e.g. nothing to make invalid in an operation without parameters
        return []
    except Exception as exc:  # every failure is reported, with the request that caused it
        return [f"{operation.label} ({mode.value}): {exc}"]
    return []


# Not @schema.parametrize(): its lazy form (schemathesis.pytest.from_fixture, needed for an app built from a
# fixture) reads a pytest internal that pytest 9 no longer has.
@pytest.mark.slow
def test_api_conforms_to_its_schema(api):
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 12
    failures = [f for op in operations for mode in GenerationMode for f in examples_of(op, mode)]
    assert not failures, "\n\n".join(failures)
