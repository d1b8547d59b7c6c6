// simcore browser viewer: canvas top-down view of a run, timeline, events, actor state.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("sv-data").textContent);
  function bytes(b64) { const s = atob(b64), u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u.buffer; }
  const M = D.meta, N = M.actor_ids.length, F = D.frames, EGO = M.ego;
  const T = new Float32Array(bytes(D.time)), QX = new Uint16Array(bytes(D.x)), QY = new Uint16Array(bytes(D.y));
  const QYAW = new Uint16Array(bytes(D.yaw)), QV = new Uint16Array(bytes(D.speed));
  const [X0, Y0, Q, YQ, VQ] = D.q, OFF = 65535;
  function layers(list) { return list.map(l => ({ name: l.name, colour: l.colour, closed: l.closed, pts: new Float32Array(bytes(l.pts)), starts: new Int32Array(bytes(l.starts)) })); }
  const MAP = layers(D.map), OVER = layers(D.overlays);
  const SENS = (D.sensors || []).map(s => ({ kind: s.kind, colour: s.colour, t: new Float32Array(bytes(s.time)), starts: new Int32Array(bytes(s.starts)), v: new Float32Array(bytes(s.vals)) }));
  const T0 = F ? T[0] : 0, T1 = F ? T[F - 1] : 0;
  const cv = document.getElementById("sv-canvas"), ctx = cv.getContext("2d");
  const el = id => document.getElementById(id);
  const [bx0, by0, bx1, by1] = D.bounds;
  const view = { cx: (bx0 + bx1) / 2, cy: (by0 + by1) / 2, z: Math.min(cv.width / Math.max(bx1 - bx0 + 20, 1), cv.height / Math.max(by1 - by0 + 20, 1)) };
  const state = { t: T0, playing: false, speed: 1, selected: -1, errors: 0 };
  // map pre-rendered once to an offscreen canvas, blitted with the view transform
  const OS = Math.min(4, 2048 / Math.max(bx1 - bx0, by1 - by0, 1));
  const off = document.createElement("canvas");
  off.width = Math.max(1, Math.ceil((bx1 - bx0) * OS) + 2); off.height = Math.max(1, Math.ceil((by1 - by0) * OS) + 2);
  function drawPolys(c, ls, tx, ty, s, width) {
    for (const l of ls) {
      c.beginPath();
      for (let k = 0; k + 1 < l.starts.length; k++) {
        const a = l.starts[k], b = l.starts[k + 1];
        for (let i = a; i < b; i++) { const px = tx(l.pts[2 * i]), py = ty(l.pts[2 * i + 1]); if (i === a) c.moveTo(px, py); else c.lineTo(px, py); }
        if (l.closed) c.closePath();
      }
      if (l.closed && l.name.startsWith("lane:")) { c.fillStyle = l.colour; c.fill(); }
      else { c.strokeStyle = l.colour; c.lineWidth = width; c.stroke(); }
    }
  }
  drawPolys(off.getContext("2d"), MAP, x => (x - bx0) * OS + 1, y => (by1 - y) * OS + 1, OS, 1);
  const sx = x => (x - view.cx) * view.z + cv.width / 2, sy = y => cv.height / 2 - (y - view.cy) * view.z;
  function frameAt(t) { // index k with T[k] <= t < T[k+1], and the fraction
    let lo = 0, hi = F - 1;
    if (t <= T[0]) return [0, 0]; if (t >= T[hi]) return [hi, 0];
    while (hi - lo > 1) { const m = (lo + hi) >> 1; if (T[m] <= t) lo = m; else hi = m; }
    return [lo, (t - T[lo]) / Math.max(T[lo + 1] - T[lo], 1e-9)];
  }
  function poseKF(i, k, f) { // [x, y, yaw, speed] of actor i between frames k and k+1, or null when inactive
    const a = k * N + i;
    if (QX[a] === OFF) return null;
    let x = X0 + QX[a] * Q, y = Y0 + QY[a] * Q, yaw = QYAW[a] * YQ, v = QV[a] * VQ;
    if (f > 0 && k + 1 < F && QX[a + N] !== OFF) {
      const b = a + N; let dy = QYAW[b] * YQ - yaw; dy -= 2 * Math.PI * Math.round(dy / (2 * Math.PI));
      x += f * (X0 + QX[b] * Q - x); y += f * (Y0 + QY[b] * Q - y); yaw += f * dy; v += f * (QV[b] * VQ - v);
    }
    return [x, y, yaw, v];
  }
  function pose(i, t) { const [k, f] = frameAt(t); return poseKF(i, k, f); }
  const KIND_FILL = { pedestrian: "#f2c14e", cyclist: "#7fc97f", static: "#a0522d" };
  function draw() {
    if (el("sv-follow").checked && EGO >= 0) { const p = pose(EGO, state.t); if (p) { view.cx = p[0]; view.cy = p[1]; } }
    ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.fillStyle = "#a7c496"; ctx.fillRect(0, 0, cv.width, cv.height);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, sx(bx0) - view.z / OS, sy(by1) - view.z / OS, off.width * view.z / OS, off.height * view.z / OS);
    if (el("sv-overlays").checked && OVER.length) { ctx.setLineDash([6, 4]); drawPolys(ctx, OVER, sx, sy, view.z, 2); ctx.setLineDash([]); }
    if (SENS.length && el("sv-sensors").checked) drawSensors();
    const [k] = frameAt(state.t);
    if (el("sv-traces").checked) {
      const k0 = Math.max(0, k - 20);
      ctx.lineWidth = 1; ctx.strokeStyle = "rgba(40,40,40,0.45)"; ctx.beginPath();
      for (let i = 0; i < N; i++) {
        if (i === EGO) continue; let pen = false;
        for (let j = k0; j <= k; j++) { const a = j * N + i; if (QX[a] === OFF) { pen = false; continue; } const px = sx(X0 + QX[a] * Q), py = sy(Y0 + QY[a] * Q); if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py); pen = true; }
      }
      ctx.stroke();
      if (EGO >= 0) {
        ctx.lineWidth = 3; ctx.strokeStyle = "#1f77b4"; ctx.beginPath(); let pen = false;
        for (let j = 0; j <= k; j++) { const a = j * N + EGO; if (QX[a] === OFF) { pen = false; continue; } const px = sx(X0 + QX[a] * Q), py = sy(Y0 + QY[a] * Q); if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py); pen = true; }
        ctx.stroke();
      }
    }
    // actors: one path per fill colour and one outline path (few canvas state changes for many actors)
    const labels = el("sv-labels").checked, [kk, ff] = frameAt(state.t);
    const fills = {}, outline = new Path2D();
    let egoBox = null, selBox = null;
    ctx.font = "11px sans-serif"; ctx.fillStyle = "#000";
    for (let i = 0; i < N; i++) {
      const p = poseKF(i, kk, ff); if (!p) continue;
      const c = Math.cos(p[2]), s = Math.sin(p[2]), co = M.center_offset_m[i];
      const x = p[0] + co * c, y = p[1] + co * s, hl = M.length_m[i] / 2, hw = M.width_m[i] / 2;
      const px = sx(x), py = sy(y), zc = view.z * c, zs = view.z * s;
      const box = new Path2D();
      box.moveTo(px + hl * zc - hw * zs, py - hl * zs - hw * zc);
      box.lineTo(px - hl * zc - hw * zs, py + hl * zs - hw * zc);
      box.lineTo(px - hl * zc + hw * zs, py + hl * zs + hw * zc);
      box.lineTo(px + hl * zc + hw * zs, py - hl * zs + hw * zc);
      box.closePath();
      box.moveTo(px + 0.4 * hl * zc, py - 0.4 * hl * zs); box.lineTo(px + hl * zc, py - hl * zs);
      if (i === EGO) egoBox = [box, px, py, hl];
      else { const col = KIND_FILL[M.kinds[i]] || "#e6e6e6"; (fills[col] = fills[col] || new Path2D()).addPath(box); outline.addPath(box); }
      if (i === state.selected) selBox = box;
      if (labels && i !== EGO) ctx.fillText(M.actor_ids[i], px + 6, py - 6);
    }
    for (const col in fills) { ctx.fillStyle = col; ctx.fill(fills[col]); }
    ctx.lineWidth = 1; ctx.strokeStyle = "#000"; ctx.stroke(outline);
    if (egoBox) {
      const [box, px, py, hl] = egoBox;
      ctx.fillStyle = "#1f77b4"; ctx.fill(box); ctx.stroke(box);
      ctx.strokeStyle = "#1f77b4"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(px, py, Math.max(14, hl * view.z * 1.6), 0, 2 * Math.PI); ctx.stroke();
      ctx.fillStyle = "#000"; ctx.fillText(M.actor_ids[EGO], px + 6, py - 6);
    }
    if (selBox) { ctx.strokeStyle = "#cf222e"; ctx.lineWidth = 3; ctx.stroke(selBox); }
    el("sv-time").textContent = state.t.toFixed(2) + " s";
    el("sv-range").value = T1 > T0 ? (state.t - T0) / (T1 - T0) : 0;
    info();
  }
  function drawSensors() { // each sensor's latest frame at or before the time (none if over 0.5 s old)
    for (const s of SENS) {
      let lo = -1, hi = s.t.length;
      while (hi - lo > 1) { const m = (lo + hi) >> 1; if (s.t[m] <= state.t + 1e-6) lo = m; else hi = m; }
      if (lo < 0 || state.t - s.t[lo] > 0.5) continue;
      ctx.fillStyle = ctx.strokeStyle = s.colour; ctx.lineWidth = 2; ctx.beginPath();
      for (let j = s.starts[lo]; j < s.starts[lo + 1]; j++) {
        if (s.kind === "radar") { ctx.rect(sx(s.v[2 * j]) - 3, sy(s.v[2 * j + 1]) - 3, 6, 6); continue; }
        const o = 5 * j, c = Math.cos(s.v[o + 2]), n = Math.sin(s.v[o + 2]), hl = s.v[o + 3] / 2, hw = s.v[o + 4] / 2;
        for (let q = 0; q < 5; q++) { const a = [1, -1, -1, 1, 1][q] * hl, b = [1, 1, -1, -1, 1][q] * hw, px = sx(s.v[o] + c * a - n * b), py = sy(s.v[o + 1] + n * a + c * b); if (q) ctx.lineTo(px, py); else ctx.moveTo(px, py); }
      }
      if (s.kind === "radar") ctx.fill(); else ctx.stroke();
    }
  }
  function info() {
    const box = el("sv-info"), i = state.selected;
    if (i < 0) return;
    const p = pose(i, state.t);
    box.textContent = "actor  " + M.actor_ids[i] + "\nkind   " + M.kinds[i] + (p ? "\nx, y   " + p[0].toFixed(2) + ", " + p[1].toFixed(2) + " m\nyaw    " + (p[2] * 180 / Math.PI).toFixed(1) + "°\nspeed  " + (p[3] * 3.6).toFixed(1) + " km/h" : "\n(not active at this time)") + "\nt      " + state.t.toFixed(2) + " s";
  }
  function setTime(t) { state.t = Math.min(Math.max(t, T0), T1); draw(); }
  function play(on) { state.playing = on && F > 1; el("sv-play").textContent = state.playing ? "⏸" : "▶"; if (state.playing && state.t >= T1) state.t = T0; }
  let last = null;
  function tick(now) {
    if (state.playing) {
      if (last !== null) { state.t += (now - last) / 1000 * state.speed; if (state.t >= T1) { state.t = T1; play(false); } }
      last = now; draw();
    } else last = null;
    requestAnimationFrame(tick);
  }
  const stepDt = F > 1 ? (T1 - T0) / (F - 1) : 0.1;
  el("sv-play").onclick = () => play(!state.playing);
  el("sv-fwd").onclick = () => { play(false); setTime(state.t + stepDt); };
  el("sv-back").onclick = () => { play(false); setTime(state.t - stepDt); };
  el("sv-speed").onchange = e => { state.speed = parseFloat(e.target.value); };
  el("sv-range").oninput = e => setTime(T0 + parseFloat(e.target.value) * (T1 - T0));
  for (const id of ["sv-traces", "sv-labels", "sv-overlays", "sv-follow", "sv-sensors"]) if (el(id)) el(id).onchange = draw;
  const mk = el("sv-markers");
  D.events.forEach((e, n) => {
    const d = document.createElement("div");
    d.className = "sv-marker" + (["collision", "offroad", "red_light", "agent_failure", "bad_control"].includes(e.kind) ? "" : " sv-info");
    d.style.left = (T1 > T0 ? 100 * (e.t - T0) / (T1 - T0) : 0) + "%";
    d.title = e.t.toFixed(2) + " s  " + e.kind + " " + e.actors.join(", ") + (e.detail ? "  " + e.detail : "");
    d.dataset.t = e.t; d.dataset.n = n;
    d.onclick = () => { play(false); setTime(e.t); const a = M.actor_ids.indexOf(e.actors[0]); if (a >= 0) state.selected = a; draw(); };
    mk.appendChild(d);
  });
  function canvasXY(ev) { const r = cv.getBoundingClientRect(); return [(ev.clientX - r.left) * cv.width / r.width, (ev.clientY - r.top) * cv.height / r.height]; }
  function pick(px, py) { // nearest active actor within 3 m (or its box) of the canvas point
    const wx = (px - cv.width / 2) / view.z + view.cx, wy = (cv.height / 2 - py) / view.z + view.cy;
    let best = -1, bd = Math.max(3, 8 / view.z) ** 2;
    for (let i = 0; i < N; i++) { const p = pose(i, state.t); if (!p) continue; const co = M.center_offset_m[i]; const d = (p[0] + co * Math.cos(p[2]) - wx) ** 2 + (p[1] + co * Math.sin(p[2]) - wy) ** 2; if (d < bd) { bd = d; best = i; } }
    return best;
  }
  let drag = null;
  cv.onmousedown = ev => { drag = [ev.clientX, ev.clientY, view.cx, view.cy, false]; };
  window.addEventListener("mousemove", ev => { if (!drag) return; const r = cv.getBoundingClientRect(), s = cv.width / r.width; const dx = ev.clientX - drag[0], dy = ev.clientY - drag[1]; if (Math.abs(dx) + Math.abs(dy) > 3) drag[4] = true; if (drag[4]) { view.cx = drag[2] - dx * s / view.z; view.cy = drag[3] + dy * s / view.z; draw(); } });
  window.addEventListener("mouseup", ev => { if (drag && !drag[4]) { const [px, py] = canvasXY(ev); state.selected = pick(px, py); if (state.selected < 0) el("sv-info").textContent = "No actor there."; draw(); } drag = null; });
  cv.addEventListener("wheel", ev => { ev.preventDefault(); view.z *= Math.exp(-ev.deltaY * 0.0015); draw(); }, { passive: false });
  document.addEventListener("keydown", ev => { if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return; if (ev.key === " ") { ev.preventDefault(); play(!state.playing); } else if (ev.key === "ArrowRight") el("sv-fwd").click(); else if (ev.key === "ArrowLeft") el("sv-back").click(); });
  // a small API for tests and for pages that embed the viewer
  window.simcoreViewer = { get time() { return state.t; }, get selected() { return state.selected; }, get playing() { return state.playing; }, setTime, play, select(i) { state.selected = i; draw(); }, toCanvas(x, y) { return [sx(x), sy(y)]; }, pose, sensors: SENS.length, start: T0, end: T1 };
  if (EGO >= 0) { const p = pose(EGO, T0); if (p && (bx1 - bx0) > 400) { view.cx = p[0]; view.cy = p[1]; view.z = Math.max(view.z, 3); } }
  draw();
  requestAnimationFrame(tick);
})();
