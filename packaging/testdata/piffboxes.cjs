// piffboxes.cjs FILE prints, as JSON, the PIFF 1.1 uuid boxes mp4box.js (GPAC's MP4 parser for
// JavaScript, npm mp4box) finds in an MP4: track encryption (algorithm, IV size, KID), pssh
// (system ID, data size) and sample encryption (count of boxes, by parent traf track ID).
// TestPIFFDownload runs it with NODE_PATH pointing at .tools/node_modules.
'use strict';
const MP4Box = require('mp4box');
const fs = require('fs');
const buf = fs.readFileSync(process.argv[2]);
const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
ab.fileStart = 0;
const file = MP4Box.createFile();
file.appendBuffer(ab);
file.flush();
const out = { tenc: [], pssh: [], senc: {} };
const seen = new Set();
function walk(box, path, trackID) {
  if (!box || typeof box !== 'object' || seen.has(box)) return;
  seen.add(box);
  if (box.type === 'tfhd') trackID = box.track_id;
  if (box.type === 'traf' && box.tfhd) trackID = box.tfhd.track_id;
  if (box.type) path += '/' + box.type;
  if (box.type === 'uuid') {
    if (box.box_name === 'PiffTrackEncryptionBox') {
      out.tenc.push({ path, algorithm: box.default_AlgorithmID, iv_size: box.default_IV_size, kid: box.default_KID });
    } else if (box.box_name === 'PiffProtectionSystemSpecificHeaderBox') {
      out.pssh.push({ path, system_id: box.system_id, data_size: box.data ? box.data.length : 0 });
    } else if (box.box_name === 'PiffSampleEncryptionBox') {
      out.senc[trackID] = (out.senc[trackID] || 0) + 1;
    }
  }
  for (const k of Object.keys(box)) {
    const v = box[k];
    if (Array.isArray(v)) v.forEach((x) => walk(x, path, trackID));
    else if (v && typeof v === 'object' && v.type) walk(v, path, trackID);
  }
}
file.boxes.forEach((b) => walk(b, '', 0));
console.log(JSON.stringify(out));
