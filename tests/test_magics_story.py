"""``%imagine_pin``, ``%imagine_unpin``, ``%%storyboard`` and ``%edit --panel N`` in a real IPython
shell against the offline backend."""

from __future__ import annotations

import base64

from tests.test_magics import cell, ip, wire  # noqa: F401  (the shell and recorded-session fixtures)

PANELS = "Milo wakes up in a forest\nMilo finds a map\nMilo sets sail on the sea\n"


def _pinned_bytes(body: dict) -> list[bytes]:
    return [base64.b64decode(c["image_url"].split(",", 1)[1]) for c in body["input"][-1]["content"]
            if c["type"] == "input_image"]


def test_pin_storyboard_and_edit_a_panel_by_magics(ip, wire):  # noqa: F811
    cell(ip, "%imagine Milo the orange fox with a blue scarf -q low")
    milo = ip.user_ns["s"].turns[0].image.data
    run = cell(ip, "%imagine_pin --name Milo --role character")
    assert "pinned 'Milo' (character)" in run.stdout
    before = len(wire.bodies("/responses"))
    run = cell(ip, f"%%storyboard -q low --out board\n{PANELS}")
    assert run.stderr == ""
    bodies = wire.bodies("/responses")[before:]
    assert len(bodies) == 3 and all(_pinned_bytes(b) == [milo] for b in bodies)
    board = ip.user_ns["board"]
    assert any("imagewidgets-storyboard" in o.data.get("text/html", "") for o in run.outputs)
    run = cell(ip, "%edit --panel 2 add rain")
    assert run.stderr == ""
    edited = ip.user_ns["s"].storyboards()[-1]
    assert edited.id == board.id and edited.panels[1].turn_id == ip.user_ns["s"].current.id
    assert _pinned_bytes(wire.bodies("/responses")[-1]) == [milo]
    assert "unpinned Milo" in cell(ip, "%imagine_unpin Milo").stdout
    assert ip.user_ns["s"].pins() == []


def test_story_magics_say_mistakes_in_one_line(ip, wire):  # noqa: F811
    assert "no storyboard yet" in cell(ip, "%edit --panel 2 add rain").stderr
    assert cell(ip, "%%storyboard\n\n").error_lines == ["%storyboard: %%storyboard takes its panels from the cell, one per line"]
    cell(ip, "%imagine a fox -q low")
    err = cell(ip, '%imagine_pin --name "Mi\\"lo"').stderr
    assert err.startswith("%imagine_pin:") and len(err.strip().splitlines()) == 1
    assert "name the pins to remove" in cell(ip, "%imagine_unpin").stderr
