// Satchel demo player, package mode: Shaka Player (vendored, see vendor/shaka-player/SOURCE)
// plays the served package's DASH manifest with EME ClearKey licenses from this server,
// lists every audio language and subtitle track, and switches between them.
// URL parameters for unattended runs: mode=package&autoplay=1 plays; manifest=master.m3u8 plays
// the HLS multivariant playlist instead of the MPD; audio=LANG switches the audio to LANG once
// playback advances; text=LANG shows those subtitles; trick=RATE starts trick play (fast
// forward at RATE, on the I-frame tracks) once playback advances; buffer=SECONDS sets how far
// ahead Shaka buffers.
'use strict';
const pkg = { player: null, switched: false, cueShown: false };

function trackLabel(t) {
  return (t.label || t.language || 'und') + ' [' + (t.language || 'und') + ']' +
    (t.channelsCount ? ' ' + t.channelsCount + 'ch' : '') + (t.roles && t.roles.length ? ' ' + t.roles.join(',') : '') +
    (t.forced ? ' forced' : '');
}

function fillTrackMenus(player) {
  const audio = document.getElementById('audio');
  audio.innerHTML = '';
  for (const t of player.getAudioTracks()) {
    const o = document.createElement('option');
    o.value = JSON.stringify({ language: t.language, label: t.label });
    o.textContent = trackLabel(t);
    o.selected = t.active;
    audio.appendChild(o);
  }
  const text = document.getElementById('text');
  text.innerHTML = '<option value="">Off</option>';
  for (const t of player.getTextTracks()) {
    const o = document.createElement('option');
    o.value = String(t.id);
    o.textContent = trackLabel(t);
    o.selected = t.active;
    text.appendChild(o);
  }
}

function selectAudio(player, language) {
  const t = player.getAudioTracks().find((a) => a.language === language);
  if (!t) { log('no audio track in language ' + language); return false; }
  player.selectAudioTrack(t);
  log('audio switched to ' + trackLabel(t));
  return true;
}

function selectText(player, language) {
  const t = player.getTextTracks().find((x) => x.language === language && !x.forced) ||
    player.getTextTracks().find((x) => x.language === language);
  if (!t) { log('no subtitle track in language ' + language); return; }
  player.selectTextTrack(t);
  log('subtitles on: ' + trackLabel(t));
}

// watchCues logs each subtitle cue the browser shows (Shaka renders through native text tracks).
function watchCues(video) {
  setInterval(() => {
    for (const tt of video.textTracks) {
      if (tt.mode === 'disabled') continue;
      for (const c of tt.activeCues || []) {
        const text = (c.text || '').replace(/<[^>]+>/g, '').replace(/\n/g, ' / ');
        if (c.__logged) continue;
        c.__logged = true;
        log('subtitle cue shown [' + (tt.language || 'und') + '] at t=' + video.currentTime.toFixed(2) + 's: ' + text);
      }
    }
  }, 100);
}

async function playPackage(manifest) {
  const video = document.getElementById('video');
  shaka.polyfill.installAll();
  if (!shaka.Player.isBrowserSupported()) { log('Shaka Player does not support this browser'); return; }
  const player = new shaka.Player();
  pkg.player = player;
  await player.attach(video);
  // Start with the package's main audio (Role main: the default track), whatever its channel
  // count: Shaka otherwise prefers stereo tracks.
  player.configure({
    drm: { servers: { 'org.w3.clearkey': location.origin + '/clearkey' } },
    preferredAudio: [{ role: 'main', language: '', label: '', channelCount: 0, codec: '', spatialAudio: false }],
  });
  const buffer = Number(new URLSearchParams(location.search).get('buffer'));
  if (buffer > 0) player.configure({ streaming: { bufferingGoal: buffer, rebufferingGoal: Math.min(buffer, 1) } });
  let ranged = false;
  player.getNetworkingEngine().registerRequestFilter((type, req) => {
    if (type === shaka.net.NetworkingEngine.RequestType.LICENSE) {
      log('license request → /clearkey: ' + new TextDecoder().decode(req.body));
    } else if (type === shaka.net.NetworkingEngine.RequestType.SEGMENT && req.headers.Range && !ranged) {
      ranged = true; // HLS I-frames are byte ranges of the segments
      log('byte-range segment request ' + req.uris[0].replace(location.origin, '') + ' ' + req.headers.Range);
    }
  });
  const fetchedDirs = new Set();
  player.getNetworkingEngine().registerResponseFilter((type, resp) => {
    if (type === shaka.net.NetworkingEngine.RequestType.LICENSE) {
      const lic = JSON.parse(new TextDecoder().decode(resp.data));
      log('license response: ' + lic.keys.length + ' key(s)');
    } else if (type === shaka.net.NetworkingEngine.RequestType.SEGMENT) {
      const m = resp.uri.match(/\/content\/(.*)\/[^/]+$/);
      if (m && !fetchedDirs.has(m[1])) { fetchedDirs.add(m[1]); log('segments from ' + m[1]); }
    }
  });
  player.addEventListener('error', (e) => log('Shaka error ' + e.detail.code + ' (category ' + e.detail.category + '): ' + JSON.stringify(e.detail.data).slice(0, 300)));
  player.addEventListener('variantchanged', () => {
    const a = player.getAudioTracks().find((t) => t.active);
    if (a) log('active audio now ' + trackLabel(a));
  });
  watchCues(video);
  try {
    await player.load(manifest);
  } catch (e) {
    log('load failed: Shaka error ' + e.code + ' ' + JSON.stringify(e.data || []).slice(0, 300));
    return;
  }
  const audios = player.getAudioTracks(), texts = player.getTextTracks();
  log('loaded ' + manifest + ': ' + audios.length + ' audio track(s) [' + audios.map(trackLabel).join('; ') + '], ' +
    texts.length + ' subtitle track(s) [' + texts.map(trackLabel).join('; ') + ']; playing audio ' +
    trackLabel(audios.find((t) => t.active) || {}) + ' (navigator.language ' + navigator.language + ')');
  logTrickTracks(player);
  fillTrackMenus(player);
  const want = new URLSearchParams(location.search);
  if (want.get('text')) selectText(player, want.get('text'));
  let start = -1;
  video.addEventListener('timeupdate', () => {
    if (start < 0 && video.currentTime > 0.3) {
      start = video.currentTime;
      log('package playing (t=' + video.currentTime.toFixed(2) + 's)');
      if (want.get('audio')) pkg.switched = selectAudio(player, want.get('audio'));
      if (want.get('trick')) {
        player.trickPlay(Number(want.get('trick')));
        log('trick play at ' + want.get('trick') + 'x');
      }
    } else if (pkg.switched && !pkg.reported && video.currentTime > start + 1) {
      pkg.reported = true;
      const a = player.getAudioTracks().find((t) => t.active);
      log('after the switch playback continues (t=' + video.currentTime.toFixed(2) + 's) with audio ' + (a ? trackLabel(a) : 'none'));
    }
  });
  video.addEventListener('error', () => log('video error: ' + (video.error && video.error.message)));
  if (want.get('debug') === '1') {
    setInterval(() => {
      const b = [];
      for (let i = 0; i < video.buffered.length; i++) b.push(video.buffered.start(i).toFixed(2) + '-' + video.buffered.end(i).toFixed(2));
      log('state t=' + video.currentTime.toFixed(2) + ' ready=' + video.readyState + ' paused=' + video.paused + ' buffered=' + b.join(','));
    }, 1000);
  }
  video.play().catch((e) => log('autoplay blocked: press play (' + e.message + ')'));
}

// logTrickTracks lists the trick-play (I-frame) track Shaka attached to each video stream of the
// manifest (DASH trick-mode AdaptationSet, HLS EXT-X-I-FRAME-STREAM-INF).
function logTrickTracks(player) {
  const seen = new Set();
  for (const v of player.getManifest().variants) {
    const s = v.video;
    if (!s || seen.has(s.id)) continue;
    seen.add(s.id);
    const t = s.trickModeVideo;
    log('video ' + s.width + 'x' + s.height + ': ' + (t ? 'trick-play track ' + t.width + 'x' + t.height +
      (t.isIframe ? ' (I-frames only)' : '') : 'no trick-play track'));
  }
}

async function findManifest() {
  const given = new URLSearchParams(location.search).get('manifest');
  for (const m of given ? ['/content/' + given] : ['/content/manifest.mpd']) {
    const r = await fetch(m, { method: 'HEAD' });
    if (r.ok) return m;
  }
  return '';
}

document.getElementById('playPackage').addEventListener('click', async () => {
  if (pkg.player) return;
  const m = await findManifest();
  if (!m) { log('no DASH manifest served: start the server with a package folder made with --formats dash'); return; }
  playPackage(m);
});
document.getElementById('audio').addEventListener('change', (ev) => {
  if (pkg.player) selectAudio(pkg.player, JSON.parse(ev.target.value).language);
});
document.getElementById('text').addEventListener('change', (ev) => {
  if (!pkg.player) return;
  const t = pkg.player.getTextTracks().find((x) => String(x.id) === ev.target.value);
  pkg.player.selectTextTrack(t || null);
  log(t ? 'subtitles on: ' + trackLabel(t) : 'subtitles off');
});
{
  const p = new URLSearchParams(location.search);
  if (p.get('mode') === 'package' && p.get('autoplay') === '1') {
    findManifest().then((m) => (m ? playPackage(m) : log('no DASH manifest served')));
  }
}
