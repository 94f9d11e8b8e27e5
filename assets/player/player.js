// Satchel demo player, single-file mode: MSE + EME ClearKey for a single-file fragmented MP4
// (package.js plays the DASH package with Shaka Player).
'use strict';
const logEl = document.getElementById('log');
function log(msg) { console.log(msg); logEl.textContent += new Date().toISOString().slice(11, 23) + '  ' + msg + '\n'; logEl.scrollTop = logEl.scrollHeight; }
const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

async function loadList() {
  const resp = await fetch('/api/downloads');
  if (!resp.ok) { log('no packaged content: start the server with a package folder'); return; }
  const list = await resp.json();
  const sel = document.getElementById('rendition');
  for (const d of list) {
    const o = document.createElement('option');
    // MSE plays the audio and video tracks; subtitle tracks (tx3g) in the file are skipped.
    const av = [...(d.codecs.split(',').filter((c) => /^(avc|hvc|hev|av01|mp4a|ac-3|ec-3)/.test(c)))];
    d.codecs = av.join(',');
    o.value = JSON.stringify(d); o.textContent = d.name + '  (' + d.codecs + ')';
    sel.appendChild(o);
  }
  log('found ' + list.length + ' download(s)');
}

async function setupKeys(video, persistent) {
  const config = [{
    initDataTypes: ['cenc', 'keyids'],
    videoCapabilities: [{ contentType: 'video/mp4; codecs="avc1.640015"' }],
    audioCapabilities: [{ contentType: 'audio/mp4; codecs="mp4a.40.2"' }],
    sessionTypes: [persistent ? 'persistent-license' : 'temporary'],
    persistentState: persistent ? 'required' : 'optional',
  }];
  const access = await navigator.requestMediaKeySystemAccess('org.w3.clearkey', config);
  const keys = await access.createMediaKeys();
  await video.setMediaKeys(keys);
  log('ClearKey MediaKeys ready (' + (persistent ? 'persistent-license' : 'temporary') + ')');
  video.addEventListener('encrypted', async (ev) => {
    log('encrypted event: initDataType ' + ev.initDataType + ', ' + ev.initData.byteLength + ' bytes of init data');
    const session = keys.createSession(persistent ? 'persistent-license' : 'temporary');
    session.addEventListener('message', async (msg) => {
      const req = new TextDecoder().decode(msg.message);
      log('license request → /clearkey: ' + req);
      const resp = await fetch('/clearkey', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: req });
      const text = await resp.text();
      if (!resp.ok) { log('license server refused (' + resp.status + '): ' + text); return; }
      const lic = JSON.parse(text);
      log('license response: ' + lic.keys.length + ' key(s), type ' + (lic.type || 'temporary'));
      await session.update(new TextEncoder().encode(text));
      log('session updated; keys usable');
    });
    session.addEventListener('keystatuseschange', () => session.keyStatuses.forEach((s, kid) => log('key ' + b64url(kid) + ': ' + s)));
    await session.generateRequest(ev.initDataType, ev.initData);
  });
}

async function play() {
  const sel = document.getElementById('rendition');
  if (!sel.value) return;
  const d = JSON.parse(sel.value);
  const video = document.getElementById('video');
  const persistent = document.getElementById('persistent').checked;
  try { await setupKeys(video, persistent); } catch (e) { log('EME setup failed: ' + e); return; }
  const mime = 'video/mp4; codecs="' + d.codecs + '"';
  if (!MediaSource.isTypeSupported(mime)) { log('this browser cannot play ' + mime); return; }
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  ms.addEventListener('sourceopen', async () => {
    const sb = ms.addSourceBuffer(mime);
    log('fetching ' + d.url);
    const data = await (await fetch(d.url)).arrayBuffer();
    log('appending ' + data.byteLength + ' bytes');
    sb.addEventListener('updateend', () => { if (ms.readyState === 'open') ms.endOfStream(); });
    sb.appendBuffer(data);
    video.play().catch((e) => log('autoplay blocked: press play (' + e.message + ')'));
  });
}

document.getElementById('play').addEventListener('click', play);
const video = document.getElementById('video');
let reported = false;
video.addEventListener('timeupdate', () => {
  if (!reported && video.currentTime > 0.5) { reported = true; log('playback advancing: decrypted frames are playing (t=' + video.currentTime.toFixed(2) + 's)'); }
});
video.addEventListener('error', () => log('video error: ' + (video.error && video.error.message)));
const params = new URLSearchParams(location.search);
if (params.get('persistent') === '1') document.getElementById('persistent').checked = true;
loadList().then(() => { if (params.get('autoplay') === '1' && params.get('mode') !== 'package') play(); });
