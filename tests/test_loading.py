"""loading.collector_paused: the cyclic collector off while libraries load, what they loaded frozen, and a
validating worker loading only what its layer groups need. Each case runs in a fresh interpreter (the collector and
the modules loaded are the process's own)."""

from __future__ import annotations

import json
import subprocess
import sys


def _run(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_collector_is_off_inside_and_on_after_and_what_was_loaded_is_frozen() -> None:
    result = _run(
        "import gc, json, sys\n"
        "from nwbconvert.loading import collector_paused\n"
        "assert 'wave' not in sys.modules\n"
        "before = gc.get_freeze_count()\n"
        "with collector_paused():\n"
        "    inside = gc.isenabled()\n"
        "    import wave\n"
        "loaded = gc.get_freeze_count()\n"
        "with collector_paused():\n"
        "    x = [[] for _ in range(1000)]\n"
        "print(json.dumps({'inside': inside, 'after': gc.isenabled(), 'before': before, 'loaded': loaded,\n"
        "                  'nothing_loaded': gc.get_freeze_count()}))\n"
    )
    assert result["inside"] is False
    assert result["after"] is True
    assert result["before"] == 0
    assert isinstance(result["loaded"], int) and result["loaded"] > 1000  # every object that existed was frozen
    assert result["nothing_loaded"] == result["loaded"]  # a block that loaded no module froze nothing more


def test_a_collector_that_was_off_stays_off() -> None:
    result = _run(
        "import gc, json\n"
        "from nwbconvert.loading import collector_paused\n"
        "gc.disable()\n"
        "with collector_paused():\n"
        "    import wave\n"
        "print(json.dumps({'after': gc.isenabled()}))\n"
    )
    assert result["after"] is False


def test_a_schema_worker_loads_pynwb_but_neither_nwb_inspector_nor_dandi_cli() -> None:
    code = (
        "import json, sys\n"
        "from nwbconvert.validate.runner import warm_up\n"
        "warm_up(('schema',))\n"
        "schema = {m: m in sys.modules for m in ('pynwb', 'nwbinspector', 'dandi.metadata.nwb')}\n"
        "warm_up(('best_practice', 'dandi'))\n"
        "both = {m: m in sys.modules for m in ('pynwb', 'nwbinspector', 'dandi.metadata.nwb')}\n"
        "print(json.dumps({'schema': schema, 'both': both}))\n"
    )
    result = _run(code)
    assert result["schema"] == {"pynwb": True, "nwbinspector": False, "dandi.metadata.nwb": False}
    assert result["both"] == {"pynwb": True, "nwbinspector": True, "dandi.metadata.nwb": True}
