"""The bundled AI rules on messages copied from public histories (trial I, python-sdk).

Each case is a real commit or PR body: a rule that stops matching fails here, and near misses
(prose naming a tool) must not match.
"""

from __future__ import annotations

import pytest

from certkit.connectors.attribution import Evidence, detect, load_rules

RULES = load_rules()

# modelcontextprotocol/python-sdk a9aca2020 (#312), squash body: Copilot Workspace wrote
# the plan and the description
COPILOT_WORKSPACE = (
    "Option to mount SSE server to existing ASGI server (#312)\n\n"
    "For more details, open the [Copilot Workspace session](https://copilot-workspace."
    "githubnext.com/modelcontextprotocol/python-sdk/issues/311?shareId=XXXX-XXXX-XXXX-XXXX)."
)


def _rules(message: str) -> set[str]:
    return {d.rule for d in detect(Evidence(messages=[message]), RULES)}


def test_a_copilot_workspace_session_link_is_copilot():
    assert _rules(COPILOT_WORKSPACE) == {"copilot-workspace-link"}
    found = detect(Evidence(messages=[COPILOT_WORKSPACE]), RULES)
    assert {d.tool for d in found} == {"copilot"}


@pytest.mark.parametrize(
    "message",
    [
        "Document the Copilot Workspace integration",  # prose, no session link
        "Link githubnext.com blog post about workspaces",
        "Fix Claude Desktop config path (#401)",  # python-sdk: product names in subjects
    ],
)
def test_prose_naming_a_tool_is_not_evidence(message):
    assert _rules(message) == set()
