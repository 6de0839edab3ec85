"""index.html opens in a real browser from disk and every figure decodes.

Uses Debian's chromium (`apt-get install chromium`, done by .ci/run); skips when absent.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Runs after load: counts <img> elements that did not decode (naturalWidth 0).
CHECK = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
         "const bad=i.filter(x=>!(x.complete&&x.naturalWidth>0)).length;"
         "document.body.insertAdjacentHTML('beforeend','<pre id=\"imgcheck\">IMGCHECK '+i.length+' '+bad+'</pre>');});"
         "</script>")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium)")
def test_every_figure_loads_in_headless_chromium(sweep_report, tmp_path):
    page = (sweep_report["out"] / "index.html").read_text()
    probe = tmp_path / "probe.html"  # a copy outside the report, so the report stays script-free
    probe.write_text(page.replace("</body>", CHECK + "</body>"))
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    found = re.search(r"IMGCHECK (\d+) (\d+)", dom)
    assert found, "the check script did not run"
    assert (int(found[1]), int(found[2])) == (7, 0)
