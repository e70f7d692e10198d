"""A participant meets the gateway's errors in the notebook, through the magics (a real IPython
shell): in the magic's own words (-q/--quality, not tools[0].quality), and speaking of the class
(a revoked token is never told to check OPENAI_API_KEY or to leave for the offline renderer)."""

from __future__ import annotations

from tests.gateway_fixtures import gateway, upstreams  # noqa: F401
from tests.test_magics import cell, ip  # noqa: F401  (the real-shell fixture)


def test_a_refused_quality_names_the_magics_option_and_a_revoked_token_speaks_of_the_class(ip, gateway):  # noqa: F811
    gw = gateway(qualities=("low", "medium"))
    [(who, token)] = gw.store.add_participants(1, budget_usd=1.0)
    cell(ip, f"%imagine_config --base-url {gw.base_url} --api-key {token}")

    refused = cell(ip, "%imagine a lighthouse at dusk -m gpt-image-2 -s 512x512 -q high")
    [line] = refused.error_lines
    assert "This class may use quality 'low' or 'medium'" in line, line
    assert "Change -q/--quality and run it again" in line and "tools[0]" not in line, line

    assert cell(ip, "%imagine a lighthouse at dusk -m gpt-image-2 -s 512x512 -q low").result is not None
    gw.store.revoke(who.id)
    revoked = cell(ip, "%imagine a lighthouse at dusk -m gpt-image-2 -s 512x512 -q medium")
    [line] = revoked.error_lines
    assert "Ask the teacher" in line, line
    assert "OPENAI_API_KEY" not in line and "offline" not in line, line
    assert token not in line
