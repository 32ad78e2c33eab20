// moat dashboard: one page, hash routes, plain JS. Talks only to moatd's /api/v1 (docs/api.md)
// through relative URLs, so it works wherever moatd serves it. Polls on timers; nothing runs per
// frame beyond uPlot's own drawing when data arrives.
'use strict';
(() => {
  // ---- DOM helpers ----
  const $ = (sel, root = document) => root.querySelector(sel);

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : v);
      }
    }
    add(el, kids);
    return el;
  }
  function add(el, kids) {
    for (const k of kids) {
      if (k == null || k === false) continue;
      if (Array.isArray(k)) add(el, k);
      else el.append(k instanceof Node ? k : String(k));
    }
  }
  // Replacing an element between a press and its release loses the click (the browser sends it
  // nowhere): while a pointer is down inside el, its new content waits for the release.
  let pressedAt = null;
  const held = new Map();
  document.addEventListener('pointerdown', (e) => { pressedAt = e.target; }, true);
  const release = () => {
    pressedAt = null;
    setTimeout(() => { // after the click the release makes
      for (const [el, kids] of held) { el.replaceChildren(); add(el, kids); }
      held.clear();
    }, 0);
  };
  document.addEventListener('pointerup', release, true);
  document.addEventListener('pointercancel', release, true);
  const fill = (el, ...kids) => {
    if (pressedAt && pressedAt instanceof Node && el.contains(pressedAt)) { held.set(el, kids); return el; }
    held.delete(el);
    el.replaceChildren();
    add(el, kids);
    return el;
  };

  // ---- formatting: SI units, local times, 1m05s durations ----
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const PREFIX = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  function sig(x) {
    const a = Math.abs(x);
    return a >= 99.95 ? x.toFixed(0) : a >= 9.995 ? x.toFixed(1) : x.toFixed(2);
  }
  function si(v, unit) {
    if (!isNum(v)) return '–';
    const a = Math.abs(v);
    for (const [m, p] of PREFIX) if (a >= m * 0.9995) return `${sig(v / m)} ${p}${unit}`;
    const s = a >= 10 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1);
    return unit ? `${s} ${unit}` : s;
  }
  const fmtPps = (v) => si(v, 'pps');
  const fmtBps = (v) => si(v, 'bit/s');
  const fmtBytes = (v) => si(v, 'B');
  const fmtCount = (v) => si(v, '');
  function siShort(v) { // axis ticks
    if (!isNum(v)) return '';
    const a = Math.abs(v);
    for (const [m, p] of PREFIX) if (a >= m) return +(v / m).toFixed(2) + p;
    return String(+v.toFixed(2));
  }
  const p2 = (n) => String(n).padStart(2, '0');
  function fmtTime(ts) {
    if (!isNum(ts)) return '–';
    const d = new Date(ts * 1000);
    return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  }
  function fmtDate(ts) {
    const d = new Date(ts * 1000);
    return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
  }
  const fmtDateTime = (ts) => (isNum(ts) ? `${fmtDate(ts)} ${fmtTime(ts)}` : '–');
  // today: the time alone; another day: with its date
  const fmtWhen = (ts) => (!isNum(ts) ? '–' : fmtDate(ts) === fmtDate(Date.now() / 1000) ? fmtTime(ts) : fmtDateTime(ts));
  function fmtDur(s) {
    if (!isNum(s) || s < 0) return '–';
    s = Math.floor(s);
    const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d) return `${d}d${p2(hh)}h${p2(m)}m`;
    if (hh) return `${hh}h${p2(m)}m${p2(sec)}s`;
    if (m) return `${m}m${p2(sec)}s`;
    return `${sec}s`;
  }
  const pct = (x) => (isNum(x) ? (x >= 0.995 ? '100%' : x >= 0.1 ? `${(x * 100).toFixed(0)}%` : `${(x * 100).toFixed(1)}%`) : '');
  const utcTitle = (ts) => (isNum(ts) ? new Date(ts * 1000).toISOString() : null);
  const str = (v) => (v == null ? '–' : String(v));
  const arr = (v) => (Array.isArray(v) ? v : []);

  // ---- API: bearer token on 401, errors as values ----
  const TOKEN_KEY = 'moat.token';
  let token = '';
  try { token = sessionStorage.getItem(TOKEN_KEY) || ''; } catch { /* storage off */ }
  let tokenWait = null;

  class ApiError extends Error {
    constructor(status, message, path) {
      super(message);
      this.status = status;
      this.path = path;
    }
    // a moatd without scrubber, BGP or history answers 503: not an error, just not there
    get notConfigured() { return this.status === 503; }
  }

  function askToken(refused) {
    if (tokenWait) return tokenWait;
    const dlg = $('#auth'), msg = $('#auth-msg'), input = $('#auth-token');
    msg.hidden = !refused;
    msg.textContent = refused ? 'moatd refused that token.' : '';
    input.value = '';
    tokenWait = new Promise((resolve) => {
      const form = $('#auth-form');
      const done = (ev) => {
        ev.preventDefault();
        const t = input.value.trim();
        if (!t) return;
        form.removeEventListener('submit', done);
        token = t;
        try { sessionStorage.setItem(TOKEN_KEY, t); } catch { /* storage off */ }
        dlg.close();
        tokenWait = null;
        resolve();
      };
      form.addEventListener('submit', done);
      // Escape would close the dialog and leave every request waiting: keep it up
      dlg.addEventListener('cancel', (ev) => ev.preventDefault(), { once: true });
      if (!dlg.open) dlg.showModal();
      input.focus();
    });
    return tokenWait;
  }

  async function request(path, opts = {}) {
    for (;;) {
      if (tokenWait) await tokenWait; // the form is up: ask once, then go on with its answer
      const used = token;
      const headers = { Accept: opts.accept || 'application/json' };
      if (used) headers.Authorization = `Bearer ${used}`;
      let r;
      try {
        r = await fetch(path, { headers, cache: 'no-store' });
      } catch (e) {
        throw new ApiError(0, `moatd unreachable (${e && e.message ? e.message : e})`, path);
      }
      if (r.status === 401) {
        // a reply to an older token while the operator already gave a new one: just retry
        if (token === used) await askToken(!!used);
        continue;
      }
      return r;
    }
  }

  async function api(path) {
    const r = await request(path);
    let body = null;
    try { body = await r.json(); } catch { /* not JSON */ }
    if (!r.ok || !body || typeof body !== 'object' || body.ok === false) {
      const msg = body && typeof body.error === 'string' ? body.error : `HTTP ${r.status} ${r.statusText || ''}`.trim();
      throw new ApiError(r.status, msg, path);
    }
    return body;
  }

  // ---- errors shown in a banner, cleared when the same source answers again ----
  const errors = new Map();
  function setError(key, err) {
    if (err) errors.set(key, err instanceof ApiError ? `${err.path.replace(/\?.*/, '')}: ${err.message}` : String(err && err.message ? err.message : err));
    else if (!errors.delete(key)) return;
    const b = $('#banner');
    b.hidden = errors.size === 0;
    fill(b, [...errors.values()].slice(0, 4).map((m) => h('div', { text: m })));
  }
  let lastOk = 0;
  function conn(ok) {
    const c = $('#conn');
    if (ok) lastOk = Date.now() / 1000;
    c.classList.toggle('live', ok);
    c.classList.toggle('down', !ok);
    $('#conn-text').textContent = ok ? `live · ${fmtTime(lastOk)}` : lastOk ? `no answer since ${fmtTime(lastOk)}` : 'no answer';
  }
  // run one fetch-and-render step: errors go to the banner, never uncaught
  async function guarded(key, fn) {
    try {
      await fn();
      setError(key, null);
      conn(true);
    } catch (e) {
      if (e instanceof ApiError && e.notConfigured) { setError(key, null); conn(true); return 'nc'; }
      setError(key, e);
      if (e instanceof ApiError) conn(e.status !== 0);
      else console.warn(e); // a bug of ours: shown in the banner too
      return 'err';
    }
    return 'ok';
  }

  // ---- timers: each view owns its pollers; a poll never overlaps itself ----
  let view = { gen: 0, timers: [], cleanup: [] };
  function poll(ms, fn) {
    const gen = view.gen;
    let timer = null;
    const run = async () => {
      if (gen !== view.gen) return;
      const t0 = performance.now();
      await fn();
      if (gen !== view.gen) return;
      timer = setTimeout(run, Math.max(50, ms - (performance.now() - t0)));
      view.timers.push(timer);
      if (view.timers.length > 64) view.timers = view.timers.slice(-16);
    };
    run();
  }
  const current = (gen) => gen === view.gen;

  // ---- charts (uPlot) ----
  const PALETTE = ['#3d8bfd', '#f59f00', '#20c997', '#e64980', '#9775fa', '#fd7e14', '#15aabf', '#94d82d', '#f06595', '#adb5bd'];
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const charts = {}; // test hook: window.moat.charts
  window.moat = { charts, version: '1' };

  // whole seconds at least: moatd's data is per second
  const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
  function timeVals(u, splits) {
    const span = u.scales.x.max - u.scales.x.min;
    return splits.map((t) => {
      const d = new Date(t * 1000);
      return span > 3 * 3600 ? `${p2(d.getHours())}:${p2(d.getMinutes())}` : span > 600 && d.getSeconds() === 0
        ? `${p2(d.getHours())}:${p2(d.getMinutes())}` : fmtTime(t);
    });
  }

  // a chart with its own compact legend (name, value at the cursor or the latest)
  function makeChart(key, el, series, fmts, opts = {}) {
    destroyChart(key);
    const legend = h('div', { class: 'legend' });
    const plot = h('div', { class: 'plot' });
    el.replaceChildren(legend, plot);
    const fg = css('--axis'), grid = css('--grid');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1, size: 4 }, font: '11px system-ui, sans-serif' };
    const width = Math.max(200, plot.clientWidth || el.clientWidth || 600);
    const cfg = {
      width, height: opts.height || 170,
      legend: { show: false },
      cursor: { sync: opts.sync ? { key: opts.sync } : undefined, drag: { x: !!opts.zoom, y: false }, points: { size: 5 } },
      scales: { x: { time: true }, ...(opts.scales || { y: { range: (u, mn, mx) => [0, mx > 0 ? mx * 1.08 : 1] } }) },
      axes: [
        { ...axis, values: timeVals, space: 60, incrs: TIME_INCRS },
        ...(opts.axes || [{ ...axis, values: (u, v) => v.map(siShort), size: 48 }]).map((a) => ({ ...axis, ...a })),
      ],
      series: [{ label: 'time' }, ...series.map((s, i) => ({
        label: s.label, stroke: s.color || PALETTE[i % PALETTE.length], width: s.width || 1.5,
        scale: s.scale || 'y', points: { show: false }, fill: s.fill,
      }))],
      hooks: { setCursor: [(u) => drawLegend(u)], setData: [(u) => drawLegend(u)] },
    };
    const items = [];
    for (const i of opts.legendOrder || series.map((_, k) => k)) {
      const v = h('span', { class: 'v' });
      legend.append(h('span', null, h('i', { style: `background:${cfg.series[i + 1].stroke}` }), series[i].label, v));
      items[i] = v;
    }
    function drawLegend(u) {
      const idx = u.cursor.idx != null ? u.cursor.idx : u.data[0].length - 1;
      items.forEach((v, i) => {
        const d = u.data[i + 1];
        const txt = idx >= 0 && d ? fmts[i](d[idx]) : '–';
        if (v.textContent !== txt) v.textContent = txt;
      });
    }
    const u = new uPlot(cfg, opts.data || [[], ...series.map(() => [])], plot);
    const ro = new ResizeObserver(() => {
      const w = Math.floor(plot.clientWidth);
      if (w > 0 && Math.abs(w - u.width) > 1) u.setSize({ width: w, height: cfg.height });
    });
    ro.observe(plot);
    u._moatRO = ro;
    charts[key] = u;
    return u;
  }
  function destroyChart(key) {
    const u = charts[key];
    if (!u) return;
    if (u._moatRO) u._moatRO.disconnect();
    u.destroy();
    delete charts[key];
  }
  function destroyCharts() { for (const k of Object.keys(charts)) destroyChart(k); }
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  scheme.addEventListener('change', () => route()); // axis colors come from the theme: rebuild

  // ---- status line (every page) ----
  let lastStatus = null;
  async function pollStatus() {
    await guarded('status', async () => {
      const s = await api('api/v1/status');
      lastStatus = s;
      const parts = [];
      const sep = () => h('span', { class: 'sep', text: '·' });
      parts.push(h('span', null, 'moatd ', h('b', { text: str(s.version) })));
      parts.push(sep(), h('span', null, 'up ', h('b', { text: fmtDur(s.uptime) })));
      parts.push(sep(), h('span', null, h('b', { text: isNum(s.hosts) ? s.hosts.toLocaleString() : '–' }), ' hosts'));
      parts.push(sep(), h('span', null, h('b', { text: str(s.attacks_active) }), ' active, ', h('b', { text: str(s.attacks_total) }), ' attacks since start'));
      const scr = s.scrubber;
      parts.push(sep(), h('span', null, 'scrubber ', h('b', { text: scr ? (arr(scr.interfaces).join(', ') || 'on') + (scr.auto ? ' (auto)' : '') : 'off' })));
      if (s.history !== undefined) parts.push(sep(), h('span', null, 'history ', h('b', { text: s.history ? 'on' : 'off' })));
      fill($('#status'), parts);
      setAlarm(s.attacks_active);
    });
  }
  function setAlarm(n) {
    const a = $('#alarm');
    n = isNum(n) ? n : 0;
    a.hidden = n === 0;
    a.textContent = n === 1 ? '1 ACTIVE ATTACK' : `${n} ACTIVE ATTACKS`;
    document.title = n ? `(${n}) moat` : 'moat';
  }

  // ---- vectors ----
  const VEC = [
    ['protocols', 'Protocols'], ['dst_ports', 'Destination ports'], ['src_ports', 'Source ports'],
    ['lengths', 'IP lengths'], ['tcp_flags', 'TCP flags'], ['icmp_types', 'ICMP type/code'],
    ['ttls', 'TTLs'], ['src_prefixes', 'Source prefixes'], ['src_addrs', 'Source addresses'],
  ];
  const VEC_SHORT = { protocols: '', dst_ports: 'dport ', src_ports: 'sport ', lengths: 'len ', tcp_flags: 'flags ', icmp_types: 'icmp ', ttls: 'ttl ', src_prefixes: 'src ' };
  function vecSummary(v) {
    if (!v || typeof v !== 'object') return h('span', { class: 'muted', text: 'no vector' });
    const out = [];
    for (const [k, pre] of Object.entries(VEC_SHORT)) {
      const items = arr(v[k]).slice(0, k === 'src_prefixes' ? 2 : 1);
      if (!items.length) continue;
      if (out.length) out.push(' · ');
      out.push(h('span', { class: 'vf' }, pre, items.map((it, i) => [i ? ', ' : '', h('b', { text: str(it && it.value) }), ' ', pct(it && it.share)])));
    }
    if (!out.length) return h('span', { class: 'muted', text: 'spread out (no dominant value)' });
    return out;
  }

  // ---- mitigations: the scrubber's rules and BGP's routes, matched to attacks ----
  let mitState = { rules: null, routes: null, nc: false };
  function mitsFor(a) {
    const ids = a.mitigations;
    let ruleIds = [], routeIds = [];
    if (Array.isArray(ids)) {
      for (const x of ids) {
        if (x && typeof x === 'object') (x.kind === 'route' || x.route !== undefined ? routeIds : ruleIds).push(x.id);
        else ruleIds.push(x);
      }
    } else if (ids && typeof ids === 'object') {
      ruleIds = arr(ids.rules).map((x) => (x && typeof x === 'object' ? x.id : x));
      routeIds = arr(ids.routes).map((x) => (x && typeof x === 'object' ? x.id : x));
    }
    const rules = arr(mitState.rules).filter((r) => r && (r.attack === a.id || (r.attack == null && ruleIds.includes(r.id))));
    const routes = arr(mitState.routes).filter((r) => r && (r.attack === a.id || (r.attack == null && routeIds.includes(r.id))));
    return { rules, routes };
  }
  function ruleLine(r) {
    return h('span', { class: 'clip', title: r.text || '' },
      h('span', { class: 'badge', text: `rule ${str(r.id)}` }), ' ', str(r.action), ' ',
      isNum(r.dropped_packets) ? [h('b', { text: fmtCount(r.dropped_packets) }), ' dropped'] : '',
      isNum(r.drop_pps) && r.drop_pps > 0 ? ` (${fmtPps(r.drop_pps)})` : '');
  }
  const routeLine = (r) => h('span', { class: 'clip', title: r.route || '' },
    h('span', { class: 'badge', text: `bgp ${str(r.id)}` }), ' ', str(r.action), ' ', h('span', { class: 'mono muted', text: str(r.route) }));

  // ---- overview ----
  function viewOverview(main, gen) {
    const attacksBody = h('div');
    const attacksPanel = h('section', { class: 'panel', id: 'attacks' },
      h('header', null, h('h2', { text: 'Active attacks' }), h('span', { class: 'grow' }), h('span', { class: 'note', id: 'attacks-note' })),
      attacksBody);
    const chartEls = {};
    const chartPanel = (key, title) => {
      chartEls[key] = h('div', { class: 'chart-body' }, h('div', { class: 'empty', text: 'waiting for moatd…' }));
      return h('section', { class: 'panel chart', id: `chart-${key}` }, h('div', { class: 'chart-head' }, h('h3', { text: title })), chartEls[key]);
    };
    const topBody = h('div', { class: 'scroll' }, h('div', { class: 'empty', text: 'waiting for moatd…' }));
    const topNote = h('span', { class: 'note' });
    const stored = (k, d, ok) => { try { const v = localStorage.getItem(k); return ok.includes(v) ? v : d; } catch { return d; } };
    const store = (k, v) => { try { localStorage.setItem(k, v); } catch { /* storage off */ } };
    let topBy = stored('moat.top.by', 'pps', ['pps', 'bps', 'flows']);
    let topDir = stored('moat.top.dir', 'incoming', ['incoming', 'outgoing']);
    const seg = (vals, cur, set) => {
      const el = h('div', { class: 'seg' });
      for (const v of vals) {
        el.append(h('button', {
          type: 'button', class: v === cur() ? 'on' : '', text: v, 'data-v': v,
          onclick: () => { set(v); for (const b of el.children) b.classList.toggle('on', b.dataset.v === v); pollTopNow(); },
        }));
      }
      return el;
    };
    const topPanel = h('section', { class: 'panel', id: 'top' },
      h('header', null, h('h2', { text: 'Top talkers' }),
        seg(['pps', 'bps', 'flows'], () => topBy, (v) => { topBy = v; store('moat.top.by', v); }),
        seg(['incoming', 'outgoing'], () => topDir, (v) => { topDir = v; store('moat.top.dir', v); }),
        h('span', { class: 'grow' }), topNote),
      topBody);
    const rulesBody = h('div', { class: 'scroll' }, h('div', { class: 'empty', text: '…' }));
    const routesBody = h('div', { class: 'scroll' }, h('div', { class: 'empty', text: '…' }));
    const mitPanel = h('section', { class: 'panel', id: 'mitigations' },
      h('header', null, h('h2', { text: 'Mitigations' }), h('span', { class: 'grow' }), h('span', { class: 'note', id: 'mit-note' })),
      h('div', { class: 'body' }, h('h3', { text: 'Scrubber rules' })), rulesBody,
      h('div', { class: 'body' }, h('h3', { text: 'BGP routes' })), routesBody);

    fill(main,
      attacksPanel,
      h('div', { class: 'grid2' },
        chartPanel('in_pps', 'Incoming · packets/s'), chartPanel('in_bps', 'Incoming · bits/s'),
        chartPanel('out_pps', 'Outgoing · packets/s'), chartPanel('out_bps', 'Outgoing · bits/s')),
      h('div', { class: 'grid2' }, topPanel, mitPanel));

    // traffic: the last 300 s once, then the last 5 s every second, appended
    const T = { series: null, ts: [], in: { pps: [], bps: [] }, out: { pps: [], bps: [] }, full: true };
    const KEEP = 300;
    // "all" is drawn last, over the networks (one network carries all the traffic often);
    // the legend keeps moatd's order. The x axis always spans the whole window.
    let order = [];
    const dataOf = (dir, m) => [T.ts, ...order.map((i) => T[dir][m][i])];
    const setLive = (u, data) => { // uPlot ranges x to the data: widen it to the window
      const ts = data[0], lastTs = ts.length ? ts[ts.length - 1] : null;
      u.setData(data, !isNum(lastTs));
      if (isNum(lastTs)) u.setScale('x', { min: lastTs - (KEEP - 1), max: lastTs });
    };
    const build = () => {
      order = T.series.map((_, i) => i).sort((a, b) => (T.series[a] === 'all') - (T.series[b] === 'all') || a - b);
      const s = order.map((i) => ({ label: T.series[i], color: PALETTE[i % PALETTE.length], width: T.series[i] === 'all' ? 2 : 1.5 }));
      const legendOrder = order.map((_, k) => k).sort((a, b) => order[a] - order[b]);
      const mk = (key, dir, m, f) => makeChart(key, chartEls[key], s, s.map(() => f),
        { sync: 'traffic', legendOrder });
      mk('in_pps', 'in', 'pps', fmtPps); mk('in_bps', 'in', 'bps', fmtBps);
      mk('out_pps', 'out', 'pps', fmtPps); mk('out_bps', 'out', 'bps', fmtBps);
      setAll();
    };
    const setAll = () => {
      for (const [key, dir, m] of [['in_pps', 'in', 'pps'], ['in_bps', 'in', 'bps'], ['out_pps', 'out', 'pps'], ['out_bps', 'out', 'bps']]) {
        if (charts[key]) setLive(charts[key], dataOf(dir, m));
      }
    };
    const col = (j, dir, m, i) => { const d = j[dir] && j[dir][m]; return Array.isArray(d) && Array.isArray(d[i]) ? d[i] : []; };
    async function pollTraffic() {
      const r = await guarded('traffic', async () => {
        const j = await api(`api/v1/traffic?seconds=${T.full ? KEEP : 5}`);
        if (!current(gen)) return;
        const series = arr(j.series).map(String), ts = arr(j.ts);
        const same = T.series && series.length === T.series.length && series.every((s, i) => s === T.series[i]);
        const last = T.ts.length ? T.ts[T.ts.length - 1] : -Infinity;
        const step = isNum(j.interval) && j.interval > 0 ? j.interval : 1;
        if (!T.full && (!same || (ts.length && ts[0] > last + step * 1.5))) {
          T.full = true; // other series (a reload) or a gap (a sleeping tab): take the whole window again
          return;
        }
        if (T.full) {
          T.series = series;
          T.ts = ts.slice();
          for (const dir of ['in', 'out']) for (const m of ['pps', 'bps']) T[dir][m] = series.map((_, i) => col(j, dir === 'in' ? 'incoming' : 'outgoing', m, i).slice());
          T.full = false;
          build();
          return;
        }
        let k = 0;
        while (k < ts.length && ts[k] <= last) k++;
        if (k < ts.length) {
          T.ts.push(...ts.slice(k));
          for (const dir of ['in', 'out']) for (const m of ['pps', 'bps']) {
            T[dir][m].forEach((a, i) => a.push(...col(j, dir === 'in' ? 'incoming' : 'outgoing', m, i).slice(k)));
          }
          const cut = T.ts.length - KEEP;
          if (cut > 0) {
            T.ts.splice(0, cut);
            for (const dir of ['in', 'out']) for (const m of ['pps', 'bps']) T[dir][m].forEach((a) => a.splice(0, cut));
          }
        }
        setAll();
      });
      if (r === 'nc' && current(gen)) {
        for (const k of Object.keys(chartEls)) fill(chartEls[k], h('div', { class: 'empty', text: 'traffic not available' }));
      }
    }

    let attacks = null; // null: no answer yet
    let attacksActive = 0; // moatd lists at most 500 (the heaviest); this counts them all
    function renderAttacks() {
      if (!attacks) { fill(attacksBody, h('div', { class: 'empty', text: 'waiting for moatd…' })); return; }
      $('#attacks-note').textContent = attacks.length ? (attacksActive > attacks.length ? `${attacksActive} active, the ${attacks.length} heaviest shown` : `${attacks.length} active`) : '';
      attacksPanel.classList.toggle('alert', attacks.length > 0);
      if (!attacks.length) {
        fill(attacksBody, h('div', { class: 'empty good', text: 'No active attacks.' }));
        return;
      }
      const rows = attacks.map((a) => {
        const m = mitsFor(a);
        const href = `#/attack/${encodeURIComponent(a.id)}`;
        return h('tr', { class: 'attack', 'data-id': a.id },
          h('td', null, h('a', { href, class: 'mono', text: str(a.target) }), a.scope === 'hostgroup' ? h('span', { class: 'muted', text: ' (group)' }) : null),
          h('td', null, h('span', { class: `badge ${a.direction}`, text: str(a.direction) })),
          h('td', null, h('a', { href, text: str(a.type) })),
          h('td', { class: 'n' }, fmtPps(a.pps)),
          h('td', { class: 'n' }, fmtBps(a.bps)),
          h('td', { class: 'n muted' }, `${fmtPps(a.peak_pps)} · ${fmtBps(a.peak_bps)}`),
          h('td', { class: 'n', title: `since ${fmtDateTime(a.started)}` }, fmtDur(a.duration)),
          h('td', null, arr(a.thresholds_exceeded).join(', ')),
          h('td', { class: 'vec' }, vecSummary(a.vector)),
          h('td', { class: 'mitcell' }, h('div', { class: 'mits' },
            m.rules.map(ruleLine), m.routes.map(routeLine),
            !m.rules.length && !m.routes.length ? h('span', { class: 'none', text: mitState.nc ? 'not configured' : 'none' }) : null)));
      });
      fill(attacksBody, h('div', { class: 'scroll' }, h('table', null,
        h('thead', null, h('tr', null, ['Target', 'Direction', 'Type'].map((t) => h('th', { text: t })),
          h('th', { class: 'n', text: 'pps' }), h('th', { class: 'n', text: 'bit/s' }), h('th', { class: 'n', text: 'Peak' }),
          h('th', { class: 'n', text: 'Duration' }), h('th', { text: 'Exceeded' }), h('th', { text: 'Vector' }), h('th', { text: 'Mitigations' }))),
        h('tbody', null, rows))));
    }
    async function pollAttacks() {
      const r = await guarded('attacks', async () => {
        const j = await api('api/v1/attacks');
        if (!current(gen)) return;
        attacks = arr(j.attacks).filter((a) => a && typeof a === 'object');
        attacksActive = isNum(j.active) ? j.active : attacks.length;
        attacks.sort((x, y) => (y.pps || 0) - (x.pps || 0));
        renderAttacks();
        setAlarm(attacks.length);
      });
      if (r === 'nc' && current(gen)) fill(attacksBody, h('div', { class: 'empty', text: 'Detection not ready.' }));
    }

    function renderMits() {
      const nc = (what) => h('div', { class: 'empty', text: `${what} not configured` });
      if (mitState.rules === null) fill(rulesBody, nc('Scrubber'));
      else if (!mitState.rules.length) fill(rulesBody, h('div', { class: 'empty', text: 'No rules.' }));
      else {
        fill(rulesBody, h('table', null,
          h('thead', null, h('tr', null, h('th', { class: 'n', text: 'ID' }), h('th', { text: 'Target' }), h('th', { text: 'Rule' }),
            h('th', { text: 'Attack' }), h('th', { class: 'n', text: 'Dropped' }), h('th', { class: 'n', text: 'Drop rate' }),
            h('th', { class: 'n', text: 'Age' }), h('th', { class: 'n', text: 'Expires' }))),
          h('tbody', null, mitState.rules.map((r) => h('tr', null,
            h('td', { class: 'n' }, str(r.id)),
            h('td', { class: 'mono' }, str(r.target)),
            h('td', { class: 'mono wrap' }, str(r.text), ' ', h('span', { class: 'muted', text: r.origin || '' })),
            h('td', null, r.attack ? h('a', { href: `#/attack/${encodeURIComponent(r.attack)}`, text: r.attack_type || r.attack }) : h('span', { class: 'muted', text: 'by hand' })),
            h('td', { class: 'n', title: isNum(r.packets) ? `${r.packets} packets matched` : null }, `${fmtCount(r.dropped_packets)} · ${fmtBytes(r.dropped_bytes)}`),
            h('td', { class: 'n' }, fmtPps(r.drop_pps)),
            h('td', { class: 'n' }, fmtDur(r.age)),
            h('td', { class: 'n' }, r.expires_in == null ? '–' : fmtDur(r.expires_in)))))));
      }
      if (mitState.routes === null) fill(routesBody, nc('BGP'));
      else if (!mitState.routes.length) fill(routesBody, h('div', { class: 'empty', text: 'No routes announced.' }));
      else {
        fill(routesBody, h('table', null,
          h('thead', null, h('tr', null, h('th', { class: 'n', text: 'ID' }), h('th', { text: 'Action' }), h('th', { text: 'Target' }),
            h('th', { text: 'Route' }), h('th', { text: 'Attack' }), h('th', { class: 'n', text: 'Age' }), h('th', { class: 'n', text: 'Expires' }))),
          h('tbody', null, mitState.routes.map((r) => h('tr', null,
            h('td', { class: 'n' }, str(r.id)), h('td', null, str(r.action)), h('td', { class: 'mono' }, str(r.target)),
            h('td', { class: 'mono wrap' }, str(r.route)),
            h('td', null, r.attack ? h('a', { href: `#/attack/${encodeURIComponent(r.attack)}`, text: r.attack }) : h('span', { class: 'muted', text: 'by hand' })),
            h('td', { class: 'n' }, fmtDur(r.age)),
            h('td', { class: 'n' }, r.expires_in == null ? '–' : fmtDur(r.expires_in)))))));
      }
      const n = arr(mitState.rules).length + arr(mitState.routes).length;
      $('#mit-note').textContent = n ? `${n} active` : '';
    }
    async function pollMits() {
      const r = await guarded('mitigations', async () => {
        const j = await api('api/v1/mitigations');
        if (!current(gen)) return;
        mitState = { rules: Array.isArray(j.rules) ? j.rules : null, routes: Array.isArray(j.routes) ? j.routes : null, nc: false };
        mitState.nc = mitState.rules === null && mitState.routes === null;
        renderMits();
        renderAttacks();
      });
      if (r === 'nc' && current(gen)) {
        mitState = { rules: null, routes: null, nc: true };
        renderMits();
      }
    }

    let topSeq = 0;
    async function pollTop() {
      const seq = ++topSeq;
      const r = await guarded('top', async () => {
        const j = await api(`api/v1/top?by=${topBy}&direction=${topDir}&limit=10`);
        if (!current(gen) || seq !== topSeq) return;
        topNote.textContent = isNum(j.ts) ? `second ending ${fmtTime(j.ts)}` : '';
        const hosts = arr(j.hosts);
        if (!hosts.length) { fill(topBody, h('div', { class: 'empty', text: 'No traffic.' })); return; }
        const hi = (k) => (k === topBy ? 'n sorted' : 'n');
        const groups = hosts.some((x) => x.hostgroup != null);
        fill(topBody, h('table', null,
          h('thead', null, h('tr', null, h('th', { text: 'Host' }), groups ? h('th', { text: 'Hostgroup' }) : null,
            h('th', { class: 'n', text: 'pps' }), h('th', { class: 'n', text: 'bit/s' }), h('th', { class: 'n', text: 'flows' }),
            h('th', { class: 'n', text: 'TCP' }), h('th', { class: 'n', text: 'UDP' }), h('th', { class: 'n', text: 'ICMP' }), h('th', { text: 'Attack' }))),
          h('tbody', null, hosts.map((x) => h('tr', { class: x.attack ? 'attack' : null },
            h('td', { class: 'mono' }, str(x.host)),
            groups ? h('td', { class: 'muted' }, x.hostgroup == null ? '' : String(x.hostgroup)) : null,
            h('td', { class: hi('pps') }, fmtPps(x.pps)),
            h('td', { class: hi('bps') }, fmtBps(x.bps)),
            h('td', { class: hi('flows') }, fmtCount(x.flows)),
            h('td', { class: 'n muted' }, fmtPps(x.tcp_pps)),
            h('td', { class: 'n muted' }, fmtPps(x.udp_pps)),
            h('td', { class: 'n muted' }, fmtPps(x.icmp_pps)),
            h('td', null, x.attack ? h('a', { href: `#/attack/${encodeURIComponent(x.attack)}`, text: 'attack' }) : ''))))));
      });
      if (r === 'nc' && current(gen)) fill(topBody, h('div', { class: 'empty', text: 'Not available.' }));
    }
    const pollTopNow = () => { pollTop(); };

    renderAttacks();
    poll(1000, pollTraffic);
    poll(1000, pollAttacks);
    poll(2000, pollMits);
    poll(1000, pollTop);
  }

  // ---- one attack ----
  const EV_FMT = {
    attack_start: (e) => `${str(e.type)}, ${fmtPps(e.pps)}, ${fmtBps(e.bps)}; exceeded ${arr(e.thresholds_exceeded).join(', ') || '–'}`,
    attack_update: (e) => `${fmtPps(e.pps)}, ${fmtBps(e.bps)}; peak ${fmtPps(e.peak_pps)}`,
    attack_end: (e) => `after ${fmtDur(e.duration)}; peak ${fmtPps(e.peak_pps)}, ${fmtBps(e.peak_bps)}; ${fmtCount(e.packets)} packets, ${fmtBytes(e.bytes)}`,
    mitigation_start: (e) => `rule ${str(e.rule_id)}: ${str(e.rule)} (${str(e.origin)}${isNum(e.coverage) ? `, covers ${pct(e.coverage)}` : ''}${isNum(e.setup_us) ? `, set up in ${e.setup_us} µs` : ''})`,
    mitigation_end: (e) => `rule ${str(e.rule_id)}: ${str(e.reason)}; dropped ${fmtCount(e.dropped_packets)} packets, ${fmtBytes(e.dropped_bytes)}`,
    bgp_announce: (e) => `route ${str(e.route_id)}: ${str(e.action)} ${str(e.route)}`,
    bgp_withdraw: (e) => `route ${str(e.route_id)}: ${str(e.action)} ${str(e.route)} (${str(e.reason)})`,
  };
  function evText(e) {
    const f = EV_FMT[e.event];
    if (f) return f(e);
    return Object.entries(e).filter(([k, v]) => k !== 'event' && k !== 'ts' && v != null && typeof v !== 'object')
      .slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ');
  }
  function shareList(items) {
    if (!items.length) return h('div', { class: 'muted', text: 'spread out' });
    return h('div', { class: 'share' }, items.map((it) => {
      const s = it && isNum(it.share) ? Math.max(0, Math.min(1, it.share)) : 0;
      return [h('div', { class: 'lbl', title: `${str(it && it.value)}: ${pct(s)}` }, h('s', { style: `width:${(s * 100).toFixed(1)}%` }), h('span', { text: str(it && it.value) })),
        h('div', { class: 'pct', text: pct(s) })];
    }));
  }

  function viewAttack(main, gen, id) {
    const head = h('div', { class: 'title' }, h('h1', { text: `Attack ${id}` }));
    const factsEl = h('dl', { class: 'facts' }, h('div', { class: 'empty', text: 'waiting for moatd…' }));
    const chartEl = h('div', { class: 'chart-body' });
    const vecEl = h('div');
    const mitEl = h('div', { class: 'scroll' });
    const evEl = h('div', { class: 'scroll events-box' });
    const evNote = h('span', { class: 'note' });
    const dl = h('span');
    fill(main, head,
      h('section', { class: 'panel', id: 'facts' }, factsEl),
      h('section', { class: 'panel chart', id: 'timeline' }, h('div', { class: 'chart-head' }, h('h3', { text: 'Timeline' }), h('span', { class: 'muted', text: 'drag to zoom, double-click to reset' })), chartEl),
      h('section', { class: 'panel', id: 'attack-mitigations' }, h('header', null, h('h2', { text: 'Mitigations' }), h('span', { class: 'grow' }), dl), mitEl),
      h('section', { class: 'panel', id: 'vector' }, h('header', null, h('h2', { text: 'Vector' }), h('span', { class: 'grow' }), h('span', { class: 'note', id: 'vec-note' })), vecEl),
      h('section', { class: 'panel', id: 'events' }, h('header', null, h('h2', { text: 'Events' }), h('span', { class: 'grow' }), evNote), evEl));

    let active = true, stillActive = true, liveRules = null;
    let chartKey = null;
    async function load() {
      const r = await guarded('attack', async () => {
        let j;
        try {
          j = await api(`api/v1/attacks/${encodeURIComponent(id)}`);
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 404) throw e;
          if (current(gen)) fill(factsEl, h('div', { class: 'empty', text: `No attack ${id} in the history.` }));
          stillActive = false;
          return;
        }
        if (!current(gen)) return;
        const at = j.attack || {};
        // while something may still act on it, the scrubber's live counters (not configured: none)
        if (stillActive && arr(at.mitigations).some((m) => m && typeof m === 'object')) {
          try {
            const mj = await api('api/v1/mitigations');
            liveRules = Array.isArray(mj.rules) ? mj.rules : null;
          } catch (e) {
            if (!(e instanceof ApiError && e.notConfigured)) throw e;
            liveRules = null;
          }
        } else liveRules = null;
        if (!current(gen)) return;
        render(at);
      });
      if (r === 'nc' && current(gen)) { // errors: shown in the banner, tried again
        fill(factsEl, h('div', { class: 'empty', text: 'History not configured: attack pages need history.path.' }));
        stillActive = false;
      }
    }
    function render(a) {
      active = a.state === 'active' || a.active === true;
      const state = a.state || (a.active ? 'active' : '');
      fill(head,
        h('h1', null, h('span', { text: str(a.type) }), ' on ', h('span', { class: 'mono', text: str(a.target) })),
        h('span', { class: `badge ${a.direction}`, text: str(a.direction) }),
        state ? h('span', { class: `badge ${state}`, text: state }) : null,
        h('span', { class: 'crumb mono', text: str(a.id || id) }));
      // history's record has no limits or per-metric rates: its last attack event has them
      const lastEv = arr(a.events).filter((e) => e && /^attack_/.test(e.event) && e.thresholds).pop() || {};
      const t = [a.thresholds, lastEv.thresholds].find((x) => x && typeof x === 'object') || {};
      const rates = active ? [a.rates, lastEv.rates].find((x) => x && typeof x === 'object') || {} : {};
      const thr = arr(a.thresholds_exceeded).map((k) => {
        const lim = t[k];
        const cur = rates[k];
        const f = /mbps$/.test(k) ? (v) => fmtBps(v * 1e6) : /pps$/.test(k) ? fmtPps : fmtCount;
        return isNum(lim) ? `${k} > ${f(lim)}${isNum(cur) ? ` (now ${f(cur)})` : ''}` : k;
      });
      const fact = (k, v, cls, wide) => h('div', { class: wide ? 'wide' : null }, h('dt', { text: k }), h('dd', { class: cls || null }, v));
      fill(factsEl,
        fact('Target', str(a.target), 'mono'),
        fact('Scope', a.scope === 'hostgroup' ? `hostgroup ${str(a.hostgroup)}` : `host${a.hostgroup ? ` in ${a.hostgroup}` : ''}`),
        fact('Type', str(a.type)),
        fact('Direction', str(a.direction)),
        fact('Started', h('span', { title: utcTitle(a.started), text: fmtDateTime(a.started) })),
        fact('Ended', a.ended == null ? (active ? 'ongoing' : '–') : h('span', { title: utcTitle(a.ended), text: fmtDateTime(a.ended) })),
        fact('Duration', fmtDur(isNum(a.duration) ? a.duration : isNum(a.ended) && isNum(a.started) ? a.ended - a.started : null)),
        fact('Peak', `${fmtPps(a.peak_pps)} · ${fmtBps(a.peak_bps)}`),
        fact(active ? 'Now' : 'Last rate', `${fmtPps(a.pps)} · ${fmtBps(a.bps)}`),
        fact('Traffic', `${fmtCount(a.packets)} packets · ${fmtBytes(a.bytes)}`),
        fact('Thresholds exceeded', thr.length ? thr.map((t, i) => [i ? h('br') : null, t]) : '–', null, true));

      // timeline: pps on the left axis, bit/s on the right
      const tl = a.timeline && typeof a.timeline === 'object' ? a.timeline : {};
      const data = [arr(tl.ts), arr(tl.pps), arr(tl.bps)];
      if (!data[0].length) {
        if (chartKey) { destroyChart(chartKey); chartKey = null; }
        fill(chartEl, h('div', { class: 'empty', text: 'No timeline recorded.' }));
      } else if (chartKey && charts[chartKey]) {
        charts[chartKey].setData(data);
      } else {
        chartKey = 'timeline';
        makeChart(chartKey, chartEl, [{ label: 'packets/s', color: PALETTE[3], width: 2, fill: 'rgba(230,73,128,0.12)' }, { label: 'bits/s', color: PALETTE[0], scale: 'bps' }],
          [fmtPps, fmtBps], {
            data, zoom: true, height: 220,
            scales: { y: { range: (u, mn, mx) => [0, mx > 0 ? mx * 1.08 : 1] }, bps: { range: (u, mn, mx) => [0, mx > 0 ? mx * 1.08 : 1] } },
            axes: [{ values: (u, v) => v.map(siShort), size: 52, label: 'pps', labelSize: 14 },
              { scale: 'bps', side: 1, values: (u, v) => v.map(siShort), size: 52, grid: { show: false }, label: 'bit/s', labelSize: 14 }],
          });
      }

      // vector
      const v = a.vector && typeof a.vector === 'object' ? a.vector : null;
      $('#vec-note').textContent = v && isNum(v.samples_weight) ? `${fmtCount(v.samples_weight)} sampled` : '';
      if (!v) fill(vecEl, h('div', { class: 'empty', text: 'No vector recorded.' }));
      else {
        fill(vecEl, h('div', { class: 'vecgrid' }, VEC.filter(([k]) => Array.isArray(v[k])).map(([k, title]) =>
          h('div', { 'data-feature': k }, h('h3', { text: title }), shareList(v[k])))));
      }

      // mitigations and routes
      const mits = arr(a.mitigations), routes = arr(a.routes);
      // history's record of each rule, its live counters from the scrubber while it is in place
      const live = new Map(arr(liveRules).filter((r) => r && r.attack === (a.id || id)).map((r) => [r.id, r]));
      // evidence there is to download: while a rule is in place the scrubber says whether it has
      // written a sample yet (history's record of a rule in place names the file it will write,
      // which is not there until then: moatd answers 404); once it ended, history's record does
      const hasEvidence = mits.some((m) => {
        if (!m || typeof m !== 'object') return false;
        const l = live.get(m.rule_id ?? m.id);
        return l ? !!l.evidence || l.evidence_packets > 0 : !!m.evidence && m.evidence_packets !== 0;
      });
      // the link stays the same element across polls: one replaced between a press and its release
      // takes no click
      const href = `api/v1/attacks/${encodeURIComponent(id)}/evidence.pcap`;
      if (!hasEvidence) fill(dl);
      else if (!dl.firstElementChild || dl.firstElementChild.getAttribute('href') !== href) {
        fill(dl, h('a', { class: 'btn ghost', id: 'evidence', href, download: `moat-${id}.pcap`, onclick: downloadEvidence },
          'Download evidence (pcap)'));
      }
      const when = (t) => (isNum(t) ? h('span', { title: utcTitle(t), text: fmtWhen(t) }) : null);
      const mrow = (m) => {
        if (!m || typeof m !== 'object') return h('tr', null, h('td', { class: 'n' }, str(m)), h('td', { colspan: 8, class: 'muted', text: 'rule' }));
        const rid = m.rule_id ?? m.id;
        const l = live.get(rid);
        const c = l || (m.counters && typeof m.counters === 'object' ? m.counters : m);
        const state = l ? (l.expires_in != null ? `in place, ${fmtDur(l.expires_in)} left` : 'in place')
          : isNum(m.ended) ? `ended ${fmtWhen(m.ended)}${m.reason ? ` (${m.reason})` : ''}` : m.reason ? str(m.reason) : 'in place';
        const evp = isNum(m.evidence_packets) ? m.evidence_packets : l && isNum(l.evidence_packets) ? l.evidence_packets : null;
        return h('tr', { 'data-rule': rid },
          h('td', { class: 'n' }, str(rid)),
          h('td', { class: 'mono wrap' }, str(m.rule ?? m.text)),
          h('td', null, str(m.action), m.origin ? h('span', { class: 'muted', text: ` ${m.origin}` }) : null),
          h('td', null, when(m.started) || '–'),
          h('td', { class: 'n' }, isNum(c.packets) ? fmtCount(c.packets) : '–'),
          h('td', { class: 'n' }, isNum(c.dropped_packets) ? `${fmtCount(c.dropped_packets)}${isNum(c.dropped_bytes) ? ` · ${fmtBytes(c.dropped_bytes)}` : ''}` : '–'),
          h('td', { class: 'n' }, l && isNum(l.drop_pps) ? fmtPps(l.drop_pps) : '–'),
          h('td', null, state),
          h('td', null, m.evidence ? (evp != null ? `${fmtCount(evp)} packets` : 'yes') : '–'));
      };
      const rrow = (r) => (r && typeof r === 'object' ? h('tr', null,
        h('td', { class: 'n' }, str(r.route_id ?? r.id)), h('td', null, str(r.action ?? r.kind)),
        h('td', { class: 'mono wrap' }, str(r.route)),
        h('td', null, when(r.announced) || '–'),
        h('td', null, isNum(r.withdrawn) ? [`withdrawn ${fmtWhen(r.withdrawn)}`, r.reason ? ` (${r.reason})` : '']
          : r.expires_in != null ? `announced, ${fmtDur(r.expires_in)} left` : 'announced'))
        : h('tr', null, h('td', { class: 'n' }, str(r)), h('td', { colspan: 4, class: 'muted', text: 'route' })));
      stillActive = active || mits.some((m) => m && typeof m === 'object' && m.ended == null)
        || routes.some((r) => r && typeof r === 'object' && r.withdrawn == null);
      fill(mitEl,
        h('div', { class: 'body' }, h('h3', { text: 'Scrubber rules' })),
        mits.length ? h('table', null,
          h('thead', null, h('tr', null, h('th', { class: 'n', text: 'ID' }), h('th', { text: 'Rule' }), h('th', { text: 'Action' }),
            h('th', { text: 'Started' }), h('th', { class: 'n', text: 'Matched' }), h('th', { class: 'n', text: 'Dropped' }),
            h('th', { class: 'n', text: 'Drop rate' }), h('th', { text: 'State' }), h('th', { text: 'Evidence' }))),
          h('tbody', null, mits.map(mrow))) : h('div', { class: 'empty', text: 'None.' }),
        h('div', { class: 'body' }, h('h3', { text: 'BGP routes' })),
        routes.length ? h('table', null,
          h('thead', null, h('tr', null, h('th', { class: 'n', text: 'ID' }), h('th', { text: 'Action' }), h('th', { text: 'Route' }),
            h('th', { text: 'Announced' }), h('th', { text: 'State' }))),
          h('tbody', null, routes.map(rrow))) : h('div', { class: 'empty', text: 'None.' }));

      // events, in time order as given
      const evs = arr(a.events).filter((e) => e && typeof e === 'object');
      evNote.textContent = `${evs.length} event${evs.length === 1 ? '' : 's'}`;
      fill(evEl, evs.length ? h('table', { class: 'events' },
        h('thead', null, h('tr', null, h('th', { text: 'Time' }), h('th', { text: 'Event' }), h('th', { text: 'Details' }))),
        h('tbody', null, evs.map((e) => h('tr', { class: `ev-${e.event}` },
          h('td', { title: utcTitle(e.ts) }, fmtWhen(e.ts)), h('td', { class: 'evname' }, str(e.event)), h('td', { class: 'wrap' }, evText(e))))))
        : h('div', { class: 'empty', text: 'No events.' }));
    }
    poll(2000, async () => { if (stillActive) await load(); });
  }

  // the evidence link works as a plain link on an open API; with a token it needs the header
  async function downloadEvidence(ev) {
    if (!token) return;
    ev.preventDefault();
    const a = ev.currentTarget;
    await guarded('evidence', async () => {
      const r = await request(a.getAttribute('href'), { accept: 'application/vnd.tcpdump.pcap' });
      if (!r.ok) {
        let msg = `HTTP ${r.status}`;
        try { const j = await r.json(); if (j && j.error) msg = j.error; } catch { /* not JSON */ }
        throw new ApiError(r.status === 503 ? 500 : r.status, msg, a.getAttribute('href'));
      }
      const url = URL.createObjectURL(await r.blob());
      const tmp = h('a', { href: url, download: a.getAttribute('download') });
      document.body.append(tmp);
      tmp.click();
      tmp.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    });
  }

  // ---- history ----
  function viewHistory(main, gen, q) {
    const limit = 50;
    const before = q.get('before');
    const target = q.get('target') || '';
    const body = h('div', { class: 'scroll' }, h('div', { class: 'empty', text: 'waiting for moatd…' }));
    const pager = h('div', { class: 'pager' });
    const input = h('input', { type: 'search', placeholder: 'target address', value: target, spellcheck: 'false', size: 24 });
    const form = h('form', { class: 'toolbar', onsubmit: (e) => {
      e.preventDefault();
      const t = input.value.trim();
      location.hash = t ? `#/history?target=${encodeURIComponent(t)}` : '#/history';
    } }, input, h('button', { type: 'submit', class: 'btn ghost', text: 'Filter' }));
    fill(main, h('section', { class: 'panel', id: 'history' },
      h('header', null, h('h2', { text: 'Attack history' }),
        h('span', { class: 'note', text: before ? `started before ${fmtDateTime(Number(before))}` : 'newest first' }),
        h('span', { class: 'grow' }), form),
      body, pager));

    async function load() {
      const r = await guarded('history', async () => {
        let url = `api/v1/history?limit=${limit}`;
        if (before) url += `&before=${encodeURIComponent(before)}`;
        if (target) url += `&target=${encodeURIComponent(target)}`;
        const j = await api(url);
        if (!current(gen)) return;
        const rows = arr(j.attacks).filter((a) => a && typeof a === 'object');
        if (!rows.length) fill(body, h('div', { class: 'empty', text: before ? 'No older attacks.' : 'No attacks recorded.' }));
        else {
          fill(body, h('table', null,
            h('thead', null, h('tr', null, h('th', { text: 'Started' }), h('th', { text: 'Target' }), h('th', { text: 'Direction' }),
              h('th', { text: 'Type' }), h('th', { text: 'State' }), h('th', { class: 'n', text: 'Duration' }),
              h('th', { class: 'n', text: 'Peak pps' }), h('th', { class: 'n', text: 'Peak bit/s' }),
              h('th', { class: 'n', text: 'Packets' }), h('th', { class: 'n', text: 'Bytes' }), h('th', { text: 'Exceeded' }),
              h('th', { class: 'n', text: 'Mitigations' }))),
            h('tbody', null, rows.map((a) => {
              const href = `#/attack/${encodeURIComponent(a.id)}`;
              const st = a.state || '';
              const mit = a.mitigations;
              const nm = Array.isArray(mit) ? mit.length : isNum(mit) ? mit : mit && typeof mit === 'object' ? arr(mit.rules).length + arr(mit.routes).length : 0;
              return h('tr', { class: st === 'active' ? 'attack' : null, 'data-id': a.id },
                h('td', { title: utcTitle(a.started) }, h('a', { href, text: fmtDateTime(a.started) })),
                h('td', null, h('a', { href, class: 'mono', text: str(a.target) })),
                h('td', null, h('span', { class: `badge ${a.direction}`, text: str(a.direction) })),
                h('td', null, str(a.type)),
                h('td', null, h('span', { class: `badge ${st}`, text: st || '–' })),
                h('td', { class: 'n' }, fmtDur(isNum(a.duration) ? a.duration : isNum(a.ended) && isNum(a.started) ? a.ended - a.started : null)),
                h('td', { class: 'n' }, fmtPps(a.peak_pps)),
                h('td', { class: 'n' }, fmtBps(a.peak_bps)),
                h('td', { class: 'n' }, fmtCount(a.packets)),
                h('td', { class: 'n' }, fmtBytes(a.bytes)),
                h('td', null, arr(a.thresholds_exceeded).join(', ')),
                h('td', { class: 'n' }, nm ? String(nm) : ''));
            }))));
        }
        const oldest = rows.length ? rows[rows.length - 1].started : null;
        const qs = (b) => { const p = new URLSearchParams(); if (b != null) p.set('before', b); if (target) p.set('target', target); const s = p.toString(); return s ? `#/history?${s}` : '#/history'; };
        fill(pager,
          h('a', { class: 'btn ghost', href: qs(null), 'aria-disabled': before ? null : 'true', text: 'Newest' }),
          h('a', { class: 'btn ghost', href: rows.length === limit && isNum(oldest) ? qs(oldest) : '#/history', 'aria-disabled': rows.length === limit && isNum(oldest) ? null : 'true', text: 'Older →' }),
          h('span', { class: 'muted', text: rows.length ? `${rows.length} attack${rows.length === 1 ? '' : 's'}, ${fmtDateTime(rows[0].started)} to ${fmtDateTime(oldest)}` : '' }));
      });
      if (r === 'nc' && current(gen)) fill(body, h('div', { class: 'empty', text: 'History not configured (history.path in moat.yaml).' }));
    }
    // the newest page follows new attacks; older pages stay put
    if (before) load(); else poll(5000, load);
  }

  // ---- routing ----
  function route() {
    view.gen++;
    for (const t of view.timers) clearTimeout(t);
    view.timers = [];
    destroyCharts();
    for (const k of [...errors.keys()]) if (k !== 'status') setError(k, null);
    const gen = view.gen;
    const raw = location.hash.replace(/^#/, '') || '/';
    const [path, query] = raw.split('?');
    const q = new URLSearchParams(query || '');
    const main = $('#main');
    let nav = '';
    let m;
    if ((m = path.match(/^\/attack\/(.+)$/))) {
      let id = m[1];
      try { id = decodeURIComponent(id); } catch { /* keep raw */ }
      viewAttack(main, gen, id);
    } else if (path === '/history') {
      nav = 'history';
      viewHistory(main, gen, q);
    } else {
      nav = 'overview';
      viewOverview(main, gen);
    }
    for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
    poll(2000, pollStatus);
  }

  window.addEventListener('hashchange', route);
  if (typeof uPlot !== 'function') {
    setError('init', 'uPlot.iife.min.js did not load: charts are off');
    window.uPlot = function () { throw new Error('uPlot missing'); };
  }
  route();
})();
