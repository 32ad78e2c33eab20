// Browser test of the moat dashboard (web/): Debian's Chromium driven by playwright-core.
//
//   node tests/web/dashboard.mjs BASE_URL ARTIFACTS_DIR [--events FILE --control DIR [--evidence N]]
//   node tests/web/dashboard.mjs BASE_URL ARTIFACTS_DIR --auth TOKEN [--attack ID]
//
// Prints one "ok: ..." or "FAIL: ..." line per check (as tests/replay/lib.sh does) and writes
// them to ARTIFACTS_DIR/results.txt (results-token.txt with --auth); exits 1 when any failed. Screenshots go to ARTIFACTS_DIR.
//
// With --events and --control (tests/web/dashboard.sh), the script drives a live attack: it
// writes DIR/ready when the overview is checked, the caller starts a flood, and the script takes
// the time the attack_start line appears in moatd's events FILE and the time the attack's row is
// visible in the page; it writes DIR/stop when it has seen the attack page, the caller stops the
// flood, and the script waits for attack_end before it looks at the history. Without them (a
// mock API during development) it expects an attack to be active already.
//
// With --evidence N (moatd's scrubber is on, evidence_packets N) the flood must get a scrubber
// rule: the overview shows it in the attack's row and the Mitigations panel; the attack page
// lists it with its counters (matched, dropped, drop rate, N evidence packets) and offers the
// evidence; clicking that link downloads a pcap (a plain link on an open API), saved as
// ARTIFACTS_DIR/evidence.pcap and checked here as a pcap of N whole records (the caller reads it
// with tcpdump). Screenshots attack.png and attack-mitigation.png show the rule.
//
// With --auth (a moatd that wants TOKEN for its GETs) it checks the token form instead: asked
// once, a wrong token refused, the right one kept in sessionStorage and sent as a bearer token.
// With --attack ID too, that attack's page downloads its evidence with the token (the page
// fetches it with the header and saves it from a blob): ARTIFACTS_DIR/evidence-token.pcap.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.log(`FAIL: playwright-core is not installed (cd web && npm ci): ${e.message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : null; };
const pos = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
if (pos.length < 2) {
  console.log('usage: node dashboard.mjs BASE_URL ARTIFACTS_DIR [--events FILE --control DIR]');
  process.exit(2);
}
const base = new URL(pos[0]);
const art = pos[1];
const eventsFile = opt('--events');
const control = opt('--control');
const live = !!(eventsFile && control);
const authToken = opt('--auth');
const evidenceCap = opt('--evidence') ? Number(opt('--evidence')) : 0;
const authAttack = opt('--attack');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(art, { recursive: true });

const results = [];
function check(desc, ok) {
  const line = `${ok ? 'ok' : 'FAIL'}: ${desc}`;
  results.push(line);
  console.log(line);
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now();
const ms = (x) => `${Math.round(x)} ms`;

// the first JSON line of FILE that matches pred, or null
function findEvent(pred) {
  let text = '';
  try { text = fs.readFileSync(eventsFile, 'utf8'); } catch { return null; }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try { const e = JSON.parse(line); if (pred(e)) return e; } catch { /* a line being written */ }
  }
  return null;
}
// poll FILE every 10 ms: the event and the wall time it was first seen
async function waitEvent(pred, timeoutMs) {
  const end = now() + timeoutMs;
  while (now() < end) {
    const e = findEvent(pred);
    if (e) return { e, seen: now() };
    await sleep(10);
  }
  return null;
}

// FILE as a pcap: its magic, byte order, and whole records (a truncated last one is an error)
function pcapInfo(file) {
  let b;
  try { b = fs.readFileSync(file); } catch (e) { return { ok: false, why: e.message, size: 0 }; }
  const info = { size: b.length, magic: b.length >= 4 ? b.subarray(0, 4).toString('hex') : '', records: 0 };
  const order = { a1b2c3d4: 'BE', a1b23c4d: 'BE', d4c3b2a1: 'LE', '4d3cb2a1': 'LE' }[info.magic];
  if (!order) return { ...info, ok: false, why: `magic ${info.magic || 'none'} is not a pcap's` };
  if (b.length < 24) return { ...info, ok: false, why: 'shorter than a pcap header' };
  const u32 = (o) => (order === 'LE' ? b.readUInt32LE(o) : b.readUInt32BE(o));
  info.nano = /3c4d|4d3c/.test(info.magic);
  info.linktype = u32(20);
  let o = 24;
  while (o + 16 <= b.length) {
    const incl = u32(o + 8);
    if (incl > 262144 || o + 16 + incl > b.length) break;
    o += 16 + incl;
    info.records++;
  }
  if (o !== b.length) return { ...info, ok: false, why: `a truncated record at byte ${o}` };
  return { ...info, ok: true };
}

let browser;
try {
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
} catch (e) {
  console.log(`FAIL: cannot launch ${chromiumPath}: ${e.message.split('\n')[0]}`);
  process.exit(2);
}
let exitCode = 0;
if (authToken) {
  try {
    await authTest();
  } catch (e) {
    check(`the token test ran to its end (${e && e.message ? e.message.split('\n')[0] : e})`, false);
  }
  await browser.close().catch(() => {});
  fs.writeFileSync(path.join(art, 'results-token.txt'), `${results.join('\n')}\n`);
  const f = results.filter((l) => l.startsWith('FAIL')).length;
  console.log(`${results.length - f} passed, ${f} failed`);
  process.exit(f ? 1 : 0);
}
try {
  const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 }, colorScheme: 'dark' });
  const page = await ctx.newPage();
  const consoleErrors = [], pageErrors = [], requests = [], failed = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url || ''})`); });
  page.on('pageerror', (e) => pageErrors.push(String(e && e.stack ? e.stack : e)));
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.url()}: HTTP ${r.status()}`); });

  // ---- overview ----
  const t0 = now();
  const resp = await page.goto(new URL('/', base).href, { waitUntil: 'load' });
  check(`GET / answers 200 (got ${resp && resp.status()})`, resp && resp.status() === 200);
  const csp = resp ? resp.headers()['content-security-policy'] || '' : '';
  check(`the page comes with a Content-Security-Policy (${csp ? 'present' : 'missing'})`, /default-src 'self'/.test(csp));
  const hasChart = await page.waitForFunction(() => window.moat && window.moat.charts && window.moat.charts.in_pps
    && window.moat.charts.in_pps.data[0].length > 0, null, { timeout: 10000 }).then(() => true, () => false);
  check(`the live traffic charts draw (${ms(now() - t0)} after load)`, hasChart);
  const status = await page.waitForFunction(() => /moatd/.test(document.querySelector('#status').textContent), null, { timeout: 5000 })
    .then(() => page.textContent('#status'), () => '');
  check(`the status line shows version and uptime: "${status.trim()}"`, /moatd\s+\S+.*up\s+\S+/.test(status));
  const topOk = await page.waitForSelector('#top table, #top .empty', { timeout: 5000 }).then(() => true, () => false);
  check('the top talkers panel answers', topOk);

  const last = () => page.evaluate(() => {
    const c = window.moat.charts.in_pps;
    return c && c.data[0].length ? c.data[0][c.data[0].length - 1] : null;
  });
  const l1 = await last();
  await sleep(2500);
  const l2 = await last();
  check(`the live chart moves: its last second went from ${l1} to ${l2} in 2.5 s (>= 2)`, l1 != null && l2 != null && l2 - l1 >= 2);
  const series = await page.evaluate(() => window.moat.charts.in_pps.series.slice(1).map((s) => s.label));
  check(`one line per traffic series: ${series.join(', ')}`, series.includes('all') && series.length >= 2);

  // ---- an attack ----
  let attackId = null;
  await page.evaluate(() => {
    // the wall time each attack row first shows up in the active attacks table
    window.__rows = {};
    const mark = () => {
      for (const tr of document.querySelectorAll('#attacks tr.attack[data-id]')) {
        if (!(tr.dataset.id in window.__rows) && tr.offsetParent !== null) window.__rows[tr.dataset.id] = Date.now();
      }
    };
    new MutationObserver(mark).observe(document.querySelector('#main'), { childList: true, subtree: true });
    mark();
  });
  if (live) {
    const before = new Set();
    fs.writeFileSync(path.join(control, 'ready'), `${now()}\n`);
    const ev = await waitEvent((e) => e.event === 'attack_start', 30000);
    check(`moatd reports the flood: ${ev ? `${ev.e.type} on ${ev.e.target}, ${ev.e.pps} pps, id ${ev.e.id}` : 'no attack_start in 30 s'}`, !!ev);
    if (ev) {
      attackId = ev.e.id;
      const seen = await page.waitForFunction((id) => window.__rows[id], attackId, { timeout: 10000, polling: 50 })
        .then((h) => h.jsonValue(), () => null);
      const dt = seen != null ? seen - ev.seen : null;
      const sinceTs = seen != null && typeof ev.e.ts === 'number' ? seen - ev.e.ts * 1000 : null;
      fs.writeFileSync(path.join(art, 'attack-latency.json'), JSON.stringify({ id: attackId, event_ts: ev.e.ts, event_seen_ms: ev.seen, row_visible_ms: seen, latency_ms: dt, latency_from_event_ts_ms: sinceTs }, null, 1));
      check(`the attack's row is in the active attacks table ${dt == null ? 'never (10 s)' : `${ms(dt)} after attack_start reached the events file (${ms(sinceTs)} after its ts)`} (<= 2000 ms)`,
        dt != null && dt <= 2000);
    }
    void before;
  } else {
    attackId = await page.waitForSelector('#attacks tr.attack[data-id]', { timeout: 5000 })
      .then((el) => el.getAttribute('data-id'), () => null);
    check(`an active attack is listed (mock): ${attackId}`, !!attackId);
  }
  if (attackId) {
    const row = page.locator(`#attacks tr[data-id="${attackId}"]`);
    const txt = (await row.count()) ? (await row.innerText()).replace(/\s+/g, ' ') : '';
    check(`the row shows target, direction, type, rates and duration: "${txt}"`, /incoming|outgoing/.test(txt) && /pps/.test(txt) && /bit\/s/.test(txt) && /\d+s/.test(txt));
    await sleep(3000); // a few more polls: the charts show the flood, top talkers caught up
    if (evidenceCap) {
      // the scrubber's rule for it: in the row's mitigations and in the Mitigations panel
      const mit = await page.waitForFunction((id) => {
        const cell = document.querySelector(`#attacks tr[data-id="${id}"] .mits`);
        const link = document.querySelector(`#mitigations a[href="#/attack/${encodeURIComponent(id)}"]`);
        return cell && /rule \d+/.test(cell.textContent) && link
          ? [cell.innerText.replace(/\s+/g, ' ').trim(), link.closest('tr').innerText.replace(/\s+/g, ' ').trim()] : null;
      }, attackId, { timeout: 5000, polling: 100 }).then((h) => h.jsonValue(), () => null);
      check(`the overview shows the flood's scrubber rule: in its row "${mit ? mit[0] : ''}", in the Mitigations panel "${mit ? mit[1] : ''}"`,
        !!mit && /dropped/.test(mit[0]) && /proto udp/.test(mit[1]));
    }
  }
  await page.screenshot({ path: path.join(art, 'overview.png'), fullPage: true });
  const banner = await page.evaluate(() => { const b = document.querySelector('#banner'); return b.hidden ? '' : b.textContent; });
  check(`no API error shown${banner ? `: ${banner}` : ''}`, !banner);

  // ---- the attack's page ----
  if (attackId) {
    // a slow click: pressed, held across two refreshes of the table (once a second), released.
    // A row replaced under the pointer would swallow it; the page holds its refresh instead
    const link = page.locator(`#attacks tr[data-id="${attackId}"] a`).first();
    const box = await link.boundingBox();
    if (box) {
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await sleep(2300);
      await page.mouse.up();
    } else {
      await page.click(`#attacks tr[data-id="${attackId}"] a`);
    }
    check('the attack row is there to press', !!box);
    const hashOk = await page.waitForFunction((id) => decodeURIComponent(location.hash) === `#/attack/${id}`, attackId, { timeout: 3000 }).then(() => true, () => false);
    check(`the row links to its attack page (${await page.evaluate(() => location.hash)})`, hashOk);
    const tl = await page.waitForFunction(() => window.moat.charts.timeline && window.moat.charts.timeline.data[0].length > 0
      && document.querySelector('#timeline canvas'), null, { timeout: 8000 }).then(() => true, () => false);
    const n = tl ? await page.evaluate(() => window.moat.charts.timeline.data[0].length) : 0;
    check(`the attack page shows its timeline chart (${n} points)`, tl);
    const facts = (await page.textContent('#facts')) || '';
    check('the attack page shows its facts (target, type, started, peak)', /Target/.test(facts) && /Started/.test(facts) && /Peak/.test(facts) && /pps/.test(facts));
    const evs = await page.locator('#events tbody tr').count();
    check(`the attack page lists its events (${evs})`, evs >= 1);
    if (evidenceCap) await attackEvidence(page, attackId);
    else {
      await sleep(500);
      await page.screenshot({ path: path.join(art, 'attack.png'), fullPage: true });
    }
  }

  // ---- history ----
  if (live) {
    fs.writeFileSync(path.join(control, 'stop'), `${now()}\n`);
    const end = await waitEvent((e) => e.event === 'attack_end' && e.id === attackId, 30000);
    // with the scrubber on, the capture behind it stops seeing the flood once the rule is in
    // place: the attack ends a cooldown later, flood or not
    check(`moatd ends the attack${evidenceCap ? ' (the scrubber keeps the flood from the capture)' : ' once the flood stops'}${end ? ` (after ${end.e.duration} s)` : ''}`, !!end);
    if (end) {
      await sleep(2500); // an active attack page polls every 2 s: let it show the end
      await page.screenshot({ path: path.join(art, 'attack-ended.png'), fullPage: true });
    }
  }
  await page.click('nav a[data-nav="history"]');
  const hrow = attackId ? await page.waitForSelector(`#history tr[data-id="${attackId}"]`, { timeout: 8000 }).then(() => true, () => false) : false;
  check(`the history page lists the attack ${attackId}`, hrow);
  if (hrow) {
    const txt = (await page.locator(`#history tr[data-id="${attackId}"]`).innerText()).replace(/\s+/g, ' ');
    check(`its history row: "${txt}"`, txt.length > 0);
    const first = await page.getAttribute('#history tbody tr:first-child', 'data-id');
    check(`newest first (first row ${first})`, live ? first === attackId : !!first);
  }
  await page.screenshot({ path: path.join(art, 'history.png'), fullPage: true });
  if (hrow) {
    await page.click(`#history tr[data-id="${attackId}"] a`);
    const back = await page.waitForFunction((id) => decodeURIComponent(location.hash) === `#/attack/${id}`, attackId, { timeout: 3000 }).then(() => true, () => false);
    check('a history row links to its attack page', back);
  }

  // ---- light scheme: the same page must render (no errors) ----
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(new URL('/#/', base).href);
  await page.waitForFunction(() => window.moat && window.moat.charts.in_pps && window.moat.charts.in_pps.data[0].length > 0, null, { timeout: 10000 }).catch(() => {});
  await sleep(1200);
  await page.screenshot({ path: path.join(art, 'overview-light.png'), fullPage: true });

  // ---- what the page did all along ----
  check(`no console errors${consoleErrors.length ? `: ${consoleErrors.slice(0, 5).join(' | ')}` : ''}`, consoleErrors.length === 0);
  check(`no page errors${pageErrors.length ? `: ${pageErrors.slice(0, 3).join(' | ')}` : ''}`, pageErrors.length === 0);
  const foreign = requests.filter((u) => { try { return new URL(u).origin !== base.origin; } catch { return true; } });
  check(`all ${requests.length} requests went to ${base.origin}${foreign.length ? `; not: ${[...new Set(foreign)].slice(0, 5).join(' ')}` : ''}`, foreign.length === 0 && requests.length > 0);
  const paths = [...new Set(requests.map((u) => new URL(u).pathname))].sort();
  fs.writeFileSync(path.join(art, 'requests.txt'), `${paths.join('\n')}\n`);
  const statics = ['/', '/app.js', '/style.css', '/uPlot.iife.min.js', '/uPlot.min.css', '/favicon.svg'];
  const other = paths.filter((p) => !statics.includes(p) && !p.startsWith('/api/v1/'));
  check(`only the dashboard's files and /api/v1 were asked for${other.length ? `; also: ${other.join(' ')}` : ''}`, other.length === 0);
  check(`no failed request${failed.length ? `: ${[...new Set(failed)].slice(0, 5).join(' | ')}` : ''}`, failed.length === 0);
} catch (e) {
  check(`the browser test ran to its end (${e && e.message ? e.message.split('\n')[0] : e})`, false);
} finally {
  await browser.close().catch(() => {});
}
fs.writeFileSync(path.join(art, 'results.txt'), `${results.join('\n')}\n`);
const fails = results.filter((l) => l.startsWith('FAIL')).length;
console.log(`${results.length - fails} passed, ${fails} failed`);
exitCode = fails ? 1 : 0;
process.exit(exitCode);

async function authTest() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  const page = await ctx.newPage();
  const pageErrors = [], otherErrors = [], foreign = [];
  let unauthorized = 0, withToken = 0, dialogsSeen = 0;
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // a 401 is logged by Chromium itself ("Failed to load resource"): expected here, nothing else is
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) otherErrors.push(m.text()); });
  page.on('request', (r) => {
    if (new URL(r.url()).origin !== base.origin) foreign.push(r.url());
    if (r.url().includes('/api/v1/') && r.headers().authorization === `Bearer ${authToken}`) withToken++;
  });
  page.on('response', (r) => { if (r.status() === 401) unauthorized++; });
  await page.goto(new URL('/', base).href);
  const asked = await page.waitForSelector('#auth[open]', { timeout: 5000 }).then(() => true, () => false);
  await sleep(1500); // every poller has met its 401 by now
  dialogsSeen = await page.locator('dialog[open]').count();
  check(`a 401 brings up the token form, once (${dialogsSeen} open after ${unauthorized} answers 401)`, asked && dialogsSeen === 1);
  const n401 = unauthorized;
  await sleep(1500);
  check(`no request is retried while the form is up (${unauthorized - n401} more 401s)`, unauthorized === n401);
  await page.screenshot({ path: path.join(art, 'token.png') });
  await page.fill('#auth-token', 'not-the-token-at-all');
  await page.press('#auth-token', 'Enter');
  const refused = await page.waitForFunction(() => {
    const m = document.querySelector('#auth-msg');
    return document.querySelector('#auth').open && !m.hidden && /refused/.test(m.textContent);
  }, null, { timeout: 5000 }).then(() => true, () => false);
  check('a wrong token is refused and the form asks again', refused);
  await page.fill('#auth-token', authToken);
  await page.press('#auth-token', 'Enter');
  const inOk = await page.waitForFunction(() => !document.querySelector('#auth').open
    && /moatd/.test(document.querySelector('#status').textContent)
    && window.moat.charts.in_pps && window.moat.charts.in_pps.data[0].length > 0, null, { timeout: 8000 }).then(() => true, () => false);
  check('the right token opens the dashboard (status line and charts)', inOk);
  const stored = await page.evaluate(() => sessionStorage.getItem('moat.token'));
  check('the token is kept in sessionStorage', stored === authToken);
  const before = unauthorized;
  await page.reload();
  await page.waitForFunction(() => window.moat && window.moat.charts.in_pps && window.moat.charts.in_pps.data[0].length > 0, null, { timeout: 8000 }).catch(() => {});
  await sleep(1500);
  check(`after a reload the tab asks no more (${unauthorized - before} new 401s, form ${await page.locator('dialog[open]').count() ? 'open' : 'closed'})`,
    unauthorized === before && (await page.locator('dialog[open]').count()) === 0);
  check(`API requests carry "Authorization: Bearer" (${withToken})`, withToken > 0);
  if (authAttack) {
    // the evidence wants the token too: the page fetches it with the header and saves the blob
    const evid = [];
    page.on('response', (r) => {
      if (/\/evidence\.pcap$/.test(new URL(r.url()).pathname)) {
        evid.push(`${r.status()} ${r.request().headers().authorization === `Bearer ${authToken}` ? 'with' : 'without'} the token`);
      }
    });
    await page.goto(new URL(`/#/attack/${encodeURIComponent(authAttack)}`, base).href);
    const link = await page.waitForSelector('#evidence', { state: 'visible', timeout: 8000 }).then(() => true, () => false);
    check(`attack ${authAttack}'s page offers its evidence`, link);
    if (link) {
      const file = path.join(art, 'evidence-token.pcap');
      const dl = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click('#evidence', { timeout: 5000 })])
        .then(([d]) => d, () => null);
      const failure = dl ? await dl.failure() : 'no download';
      if (!failure) await dl.saveAs(file);
      check(`with the token the link downloads ${dl ? `${dl.suggestedFilename()} from ${dl.url().replace(/[0-9a-f-]{36}$/, '…')}` : ''} (${failure || 'complete'}): fetched ${evid.join(', ') || 'never'}`,
        !failure && /^blob:/.test(dl.url()) && /\.pcap$/.test(dl.suggestedFilename()) && evid.length === 1 && evid[0] === '200 with the token');
      const p = pcapInfo(file);
      check(`that download is a pcap: magic ${p.magic}, ${p.size} bytes, ${p.records} whole records${p.ok ? '' : `: ${p.why}`}`,
        p.ok && p.records >= 10 && p.linktype === 1);
      const banner = await page.evaluate(() => { const b = document.querySelector('#banner'); return b.hidden ? '' : b.textContent; });
      check(`no error shown after it${banner ? `: ${banner}` : ''}`, !banner);
      await page.screenshot({ path: path.join(art, 'attack-token.png'), fullPage: true });
    }
  }
  check(`no page errors${pageErrors.length ? `: ${pageErrors.slice(0, 3).join(' | ')}` : ''}`, pageErrors.length === 0);
  check(`no console errors but the expected 401s${otherErrors.length ? `: ${otherErrors.slice(0, 3).join(' | ')}` : ''}`, otherErrors.length === 0);
  check(`every request went to ${base.origin}`, foreign.length === 0);
}

// The attack page with the scrubber on: its rule with the live counters, the evidence link, and
// the download it gives (a plain link on an open API): ARTIFACTS_DIR/evidence.pcap.
async function attackEvidence(page, id) {
  // ID, rule, action, started, matched, dropped, drop rate, state, evidence: once the rule has
  // kept all its samples (the cell counts them)
  const cells = () => page.evaluate(() => {
    const tr = document.querySelector('#attack-mitigations tbody tr[data-rule]');
    return tr ? [...tr.cells].map((c) => c.textContent.replace(/\s+/g, ' ').trim()) : null;
  });
  const full = await page.waitForFunction((cap) => {
    const tr = document.querySelector('#attack-mitigations tbody tr[data-rule]');
    const m = tr && /^([\d.]+) ?(k?) packets$/.exec(tr.cells[8].textContent.trim());
    return !!m && Number(m[1]) * (m[2] ? 1000 : 1) >= cap && /pps/.test(tr.cells[6].textContent);
  }, evidenceCap, { timeout: 10000, polling: 100 }).then(() => true, () => false);
  const td = (await cells()) || [];
  check(`the attack page lists the flood's scrubber rule: ${td.length ? `rule ${td[0]} "${td[1]}", ${td[2]}` : 'none'}`,
    /proto udp/.test(td[1]) && /dport 9\b/.test(td[1]) && /drop$/.test(td[1]) && /^drop auto$/.test(td[2]));
  check(`with its live counters: matched ${td[4]}, dropped ${td[5]}, drop rate ${td[6]}, ${td[7]}`,
    /\d/.test(td[4]) && /\d/.test(td[5]) && /\d.*pps$/.test(td[6]) && /^in place/.test(td[7]));
  check(`and its evidence: ${td[8]} (all ${evidenceCap} samples kept, ${full ? 'within 10 s' : 'not within 10 s'})`, full);
  const link = await page.waitForSelector('#evidence', { state: 'visible', timeout: 5000 })
    .then(async (el) => ({ text: (await el.textContent()).trim(), href: await el.getAttribute('href'), download: await el.getAttribute('download') }), () => null);
  const want = `api/v1/attacks/${encodeURIComponent(id)}/evidence.pcap`;
  check(`the attack page offers the evidence: ${link ? `"${link.text}" -> ${link.href} (download ${link.download})` : 'no link'}`,
    !!link && link.href === want && /\.pcap$/.test(link.download || ''));
  await sleep(1200); // moatd flushes the evidence file each tick: the last samples are in it now
  await page.screenshot({ path: path.join(art, 'attack.png'), fullPage: true });
  await page.locator('#attack-mitigations').screenshot({ path: path.join(art, 'attack-mitigation.png') });
  if (!link) return;

  const file = path.join(art, 'evidence.pcap');
  const t0 = now();
  const dl = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click('#evidence', { timeout: 5000 })])
    .then(([d]) => d, (e) => { check(`clicking the evidence link starts a download (${e.message.split('\n')[0]})`, false); return null; });
  if (!dl) return;
  const failure = await dl.failure();
  if (!failure) await dl.saveAs(file);
  const url = new URL(`/${want}`, base).href;
  check(`clicking it downloads ${dl.suggestedFilename()} from ${dl.url()} (${failure || `complete in ${ms(now() - t0)}`})`,
    !failure && dl.url() === url && /\.pcap$/.test(dl.suggestedFilename()));
  const p = pcapInfo(file);
  check(`the download is a pcap: magic ${p.magic}, ${p.size} bytes, ${p.records} whole records of ${evidenceCap} kept, link type ${p.linktype}${p.ok ? '' : `: ${p.why}`}`,
    p.ok && p.records === evidenceCap && p.linktype === 1 && p.size >= 24 + evidenceCap * (16 + 42));
  const banner = await page.evaluate(() => { const b = document.querySelector('#banner'); return b.hidden ? '' : b.textContent; });
  check(`no error shown after the download${banner ? `: ${banner}` : ''}`, !banner);
}
