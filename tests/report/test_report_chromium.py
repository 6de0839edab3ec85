"""index.html in a real browser at 1280 px: every figure decodes, nothing is wider than the
page (no horizontal scroll), and the verdict is there.

Uses Debian's chromium (`apt-get install chromium`, done by .ci/run); skips when absent,
except in CI, where it fails.
"""
import json
import re
import subprocess
from pathlib import Path

from needs import missing

CHROMIUM = "/usr/bin/chromium"
WIDTH = 1280
# Runs after load; writes its findings into the DOM, which --dump-dom prints.
CHECK = """<script>window.addEventListener('load',()=>{
const imgs=[...document.images], W=document.documentElement.clientWidth;
const wide=[...document.body.querySelectorAll('*')].filter(e=>{const r=e.getBoundingClientRect();
  return r.right>W+0.5||e.scrollWidth>e.clientWidth+1&&getComputedStyle(e).overflowX!=='visible';})
  .map(e=>e.tagName+':'+(e.textContent||'').slice(0,40));
const v=document.getElementById('verdict');
const out={width:W,images:imgs.length,broken:imgs.filter(x=>!(x.complete&&x.naturalWidth>0)).length,
  scroll:document.documentElement.scrollWidth,wide:wide.slice(0,5),verdict:v?v.innerText.slice(0,400):''};
document.body.insertAdjacentHTML('beforeend','<pre id="probe">PROBE'+JSON.stringify(out)+'ENDPROBE</pre>');});
</script>"""


def _probe(page: Path, tmp_path: Path) -> dict:
    probe = tmp_path / "probe.html"  # a copy outside the report, so the report stays script-free
    probe.write_text(page.read_text().replace("</body>", CHECK + "</body>"))
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={WIDTH},900",
           "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    found = re.search(r"PROBE(\{.*?\})ENDPROBE", dom, re.S)
    assert found, "the check script did not run"
    return json.loads(found[1].replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


def test_report_reads_at_1280_px_in_headless_chromium(sweep_report, tmp_path):
    if not Path(CHROMIUM).exists():
        missing(f"{CHROMIUM} not installed (apt-get install chromium)")
    seen = _probe(sweep_report["out"] / "index.html", tmp_path)
    assert seen["width"] == WIDTH
    assert (seen["images"], seen["broken"]) == (7, 0)
    assert seen["scroll"] <= WIDTH and seen["wide"] == []
    assert seen["verdict"].startswith("Verdict") and "structured vs star on synth-wflw" in seen["verdict"]
