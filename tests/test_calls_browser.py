"""A WebRTC call from a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright) with a fake
microphone fed from a speech WAV, on a page served by the test that uses ``RTCPeerConnection`` against mockrt with
an ephemeral key (docs/protocol.md §11.1). Skipped without Playwright or Chromium, like the inspector's browser test.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.audio_fixtures import FIXTURE_DIR

CHROMIUM = os.environ.get("MOCKRT_CHROMIUM", "/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser call test needs `pip install playwright`")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(f"the browser call test needs Chromium at {CHROMIUM} (`apt-get install chromium`)",
                allow_module_level=True)
pytestmark = pytest.mark.timeout(120)

PAGE = """<!doctype html><meta charset="utf-8"><title>call</title><script>
window.events = [];
window.call = async (base, key) => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  const mic = await navigator.mediaDevices.getUserMedia({audio: true});
  pc.addTrack(mic.getTracks()[0]);
  pc.ontrack = () => { window.gotTrack = true; };
  const dc = pc.createDataChannel("oai-events");
  dc.onmessage = (e) => window.events.push(JSON.parse(e.data).type);
  await pc.setLocalDescription(await pc.createOffer());
  const r = await fetch(base + "/v1/realtime/calls", {method: "POST", body: pc.localDescription.sdp,
    headers: {"Authorization": "Bearer " + key, "Content-Type": "application/sdp"}});
  window.location_ = r.headers.get("Location");
  await pc.setRemoteDescription({type: "answer", sdp: await r.text()});
  return r.status;
};
window.received = async () => {
  let energy = 0;
  (await window.pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") energy += s.totalAudioEnergy || 0;
  });
  return energy;
};
</script>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    (root / "call.html").write_text(PAGE)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/call.html"
    server.shutdown()
    server.server_close()


def test_browser_call_with_a_fake_microphone(site: str) -> None:
    wav = FIXTURE_DIR / "speech_weather.wav"
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={wav}",
            "--disable-features=WebRtcHideLocalIpsWithMdns", "--disable-background-networking"]
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=1.0), log_level="warning")
    with ServerThread(config) as srv, sync_api.sync_playwright() as p:
        key = httpx.post(srv.http_url + "/v1/realtime/client_secrets", headers={"Authorization": "Bearer sk-x"},
                         json={"session": {"type": "realtime", "model": "gpt-realtime"}}).json()["value"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page()
            page.goto(site)
            assert page.evaluate("([b, k]) => window.call(b, k)", [srv.http_url, key]) == 201
            assert str(page.evaluate("window.location_")).startswith("/v1/realtime/calls/rtc_")
            page.wait_for_function("window.events.includes('session.created')", timeout=20_000)
            page.wait_for_function("window.events.includes('input_audio_buffer.speech_started')", timeout=30_000)
            page.wait_for_function("window.events.includes('output_audio_buffer.started')", timeout=30_000)
            page.wait_for_function("window.gotTrack === true", timeout=5_000)
            page.wait_for_function("window.received().then(e => e > 0)", timeout=20_000, polling=200)
            events: list[Any] = page.evaluate("window.events")
            assert events.index("input_audio_buffer.speech_started") < events.index("output_audio_buffer.started")
        finally:
            browser.close()
