/**
 * @module The dashboard's browser script, shipped inline and allowed by its SHA-256 in the page's
 * Content-Security-Policy (page.ts). It polls `<prefix>/stats` and `<prefix>/dashboard/status` with the
 * session cookie and renders what they hold.
 *
 * Everything from the server goes into the page through `textContent`, `setAttribute` on numbers, or
 * SVG coordinates, never `innerHTML`: keys, URLs and tags are chosen by whoever sends requests or purges,
 * so a key like `/<script>` must stay text. Sections the stats do not carry yet (hot keys, warming, edge
 * and Upstash counters) say "none yet" until a worker that reports them answers.
 *
 * Plain ES2017 in a string (no template literals inside, so it embeds verbatim); it is type-checked by
 * nothing, and tested by test/observe/dashboard.browser.test.ts in Chromium.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var body = document.body;
  var prefix = body.getAttribute('data-prefix') || '';
  var pollMs = Number(body.getAttribute('data-poll-ms')) || 3000;
  var SVG = 'http://www.w3.org/2000/svg';
  var HISTORY = 60;
  var history = [];
  var previous = null;
  var stopped = false;

  function $(id) { return document.getElementById(id); }
  function text(id, value) { var e = $(id); if (e) e.textContent = value; }
  function el(tag, className, content) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (content !== undefined && content !== null) {
      if (typeof content === 'object') e.appendChild(content); else e.textContent = String(content);
    }
    return e;
  }
  function fill(id, node) { var e = $(id); if (e) e.replaceChildren(node); }
  function none(message) { return el('p', 'none', message || 'none yet'); }
  function num(value) { var n = Number(value); return isFinite(n) ? n : 0; }
  function int(value) { return Math.round(num(value)).toLocaleString('en-US'); }
  function pct(ratio) { return ratio === null || !isFinite(ratio) ? '–' : (ratio * 100).toFixed(1) + ' %'; }
  /** Milliseconds without the unit (the column says ms): one decimal below 10 ms. */
  function ms(value) {
    var n = num(value);
    return n >= 10 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
  }
  function bytes(value) {
    var n = num(value);
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }
  function age(value) {
    if (value === null || value === undefined || !isFinite(value)) return 'never';
    var n = num(value);
    if (n < 1000) return Math.round(n) + ' ms';
    if (n < 120000) return (n / 1000).toFixed(1) + ' s';
    if (n < 7200000) return Math.round(n / 60000) + ' min';
    return Math.round(n / 3600000) + ' h';
  }
  function when(epochMs) {
    if (!epochMs) return '–';
    var d = new Date(num(epochMs));
    return isNaN(d.getTime()) ? String(epochMs) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }
  function list(items, limit) {
    if (!Array.isArray(items)) return '';
    var shown = items.slice(0, limit).map(String).join(', ');
    return items.length > limit ? shown + ' (+' + (items.length - limit) + ' more)' : shown;
  }

  /**
   * A table whose cells are strings or nodes; columns listed in numeric are right-aligned, and those and
   * the ones in keep never wrap (short values), so long keys and URLs take the wrapping.
   */
  function table(head, rows, numeric, keep) {
    var cls = function (i) {
      return numeric && numeric.indexOf(i) >= 0 ? 'n' : keep && keep.indexOf(i) >= 0 ? 'k' : '';
    };
    var t = el('table');
    var thead = el('thead');
    var tr = el('tr');
    head.forEach(function (h, i) { var th = el('th', cls(i), h); th.scope = 'col'; tr.appendChild(th); });
    thead.appendChild(tr);
    t.appendChild(thead);
    var tbody = el('tbody');
    rows.forEach(function (row) {
      var r = el('tr');
      row.forEach(function (cell, i) { r.appendChild(el('td', cls(i), cell)); });
      tbody.appendChild(r);
    });
    t.appendChild(tbody);
    return t;
  }
  function pairs(entries) {
    var dl = el('dl', 'kv');
    entries.forEach(function (p) { dl.appendChild(el('dt', '', p[0])); dl.appendChild(el('dd', '', p[1])); });
    return dl;
  }
  function badge(value, good) { return el('span', 'badge ' + (value === good ? 'ok' : 'bad'), value); }

  /** An SVG sparkline of values in [0, max] (nulls are gaps), scaled to its box. */
  function sparkline(id, values, max, label) {
    var w = 300, h = 48;
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    var step = values.length > 1 ? w / (HISTORY - 1) : 0;
    var offset = w - step * (values.length - 1);
    var points = [];
    values.forEach(function (v, i) {
      if (v === null || !isFinite(v)) return;
      var y = h - 2 - (max > 0 ? Math.min(v, max) / max : 0) * (h - 4);
      points.push((offset + i * step).toFixed(1) + ',' + y.toFixed(1));
    });
    var base = document.createElementNS(SVG, 'line');
    base.setAttribute('x1', '0'); base.setAttribute('x2', String(w));
    base.setAttribute('y1', String(h - 1)); base.setAttribute('y2', String(h - 1));
    base.setAttribute('class', 'axis');
    svg.appendChild(base);
    var line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', points.join(' '));
    line.setAttribute('class', 'spark');
    svg.appendChild(line);
    fill(id, svg);
  }

  function renderTraffic(stats, now) {
    var c = stats.counters || {};
    var requests = num(c.requests);
    var hits = num(c.memory_hits) + num(c.edge_hits) + num(c.redis_hits);
    var ratio = requests > 0 ? hits / requests : null;
    var offload = requests > 0 ? Math.max(0, 1 - num(c.origin_fetches) / requests) : null;
    text('requests', int(requests));
    text('hits', int(hits));
    text('hit-ratio', pct(ratio));
    text('offload', pct(offload));
    text('origin-fetches', int(c.origin_fetches));
    var rate = null;
    if (previous && now > previous.at) rate = Math.max(0, requests - previous.requests) / ((now - previous.at) / 1000);
    previous = { at: now, requests: requests };
    text('rate', rate === null ? '–' : rate.toFixed(1) + ' /s');
    history.push({ ratio: ratio, rate: rate });
    if (history.length > HISTORY) history.shift();
    sparkline('spark-ratio', history.map(function (p) { return p.ratio; }), 1, 'hit ratio over the last polls');
    var rates = history.map(function (p) { return p.rate; });
    sparkline('spark-rate', rates, Math.max.apply(null, rates.map(num).concat([1])), 'requests per second over the last polls');

    var share = function (n) { return requests > 0 ? pct(num(n) / requests) : '–'; };
    var rows = [
      ['memory', int(c.memory_hits), share(c.memory_hits), int(c.memory_errors)],
      ['edge', int(c.edge_hits), share(c.edge_hits), int(c.edge_errors)],
      ['redis', int(c.redis_hits), share(c.redis_hits), int(c.redis_errors)],
      ['origin', int(c.origin_fetches), share(c.origin_fetches), int(c.origin_errors)]
    ];
    fill('tiers', table(['tier', 'served', 'share', 'errors'], rows, [1, 2, 3]));
    var extra = [['stale served', int(c.stale_served)], ['revalidated', int(c.revalidated)], ['collapsed', int(c.collapsed)],
      ['bypass', int(c.bypass)], ['uncacheable', int(c.uncacheable)], ['fills fenced', int(c.fills_fenced)]];
    // The edge tier's own counters (docs/design-notes.md, "Stats JSON"): null when the edge tier is off.
    if (stats.edge && typeof stats.edge === 'object') {
      extra.unshift(['edge tier', stats.edge.available === false ? badge('off: ' + String(stats.edge.reason || 'unavailable'), 'available') : badge('available', 'available')],
        ['edge misses', int(stats.edge.misses)], ['edge stores', int(stats.edge.stores)]);
    } else if (stats.edge === null) {
      extra.unshift(['edge tier', 'not configured']);
    }
    fill('outcomes', pairs(extra));
  }

  var LATENCY_ORDER = ['edge', 'redis', 'origin', 'origin-body', 'coherence', 'collapsed', 'invalidate'];
  function renderLatency(stats) {
    var latency = stats.latency && typeof stats.latency === 'object' ? stats.latency : null;
    var names = latency ? Object.keys(latency) : [];
    if (names.length === 0) { fill('latency', none('no timed lookups yet (memory hits are answered synchronously and not timed)')); return; }
    names.sort(function (a, b) {
      var x = LATENCY_ORDER.indexOf(a), y = LATENCY_ORDER.indexOf(b);
      return (x < 0 ? 99 : x) - (y < 0 ? 99 : y) || (a < b ? -1 : 1);
    });
    var rows = names.map(function (n) {
      var h = latency[n] || {};
      return [n, int(h.count), ms(h.p50Ms), ms(h.p95Ms), ms(h.p99Ms), ms(h.maxMs)];
    });
    fill('latency', table(['metric', 'count', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], rows, [1, 2, 3, 4, 5], [0]));
  }

  function renderRedis(stats, status) {
    var r = status.redis || {};
    var c = stats.counters || {};
    if (!r.configured) { fill('redis', none('Redis tier not configured')); return; }
    var items = [['breaker', badge(String(r.breaker), 'closed')], ['purge-log reads', r.failing ? badge('failing', 'ok') : badge('ok', 'ok')],
      ['requests', int(c.redis_requests)], ['errors', int(c.redis_errors)], ['bytes written', bytes(c.redis_bytes_written)]];
    if (stats.upstash && typeof stats.upstash === 'object') {
      items.push(['Upstash requests', int(stats.upstash.requests)], ['Upstash commands', int(stats.upstash.commands)], ['Upstash errors', int(stats.upstash.errors)]);
    }
    var box = el('div');
    box.appendChild(pairs(items));
    var errors = Array.isArray(r.errors) ? r.errors : [];
    box.appendChild(errors.length === 0 ? none('no recent errors')
      : table(['operation', 'reason', 'count', 'age', 'message'], errors.map(function (e) {
        return [String(e.operation), String(e.reason), int(e.count), age(e.ageMs), String(e.message)];
      }), [2, 3], [1]));
    fill('redis', box);
  }

  function scope(record) {
    if (record.all) return 'everything';
    var parts = [];
    if (record.urls && record.urls.length) parts.push('urls: ' + list(record.urls, 5));
    if (record.tags && record.tags.length) parts.push('tags: ' + list(record.tags, 5));
    if (record.prefixes && record.prefixes.length) parts.push('prefixes: ' + list(record.prefixes, 5));
    return parts.join('; ');
  }
  function renderPurges(stats, status) {
    var log = status.purgeLog || {};
    // The status route refreshed the view just before answering; the stats' own figure is the fallback.
    var viewAge = log.viewAgeMs !== undefined ? log.viewAgeMs : stats.coherence ? stats.coherence.viewAgeMs : null;
    text('view-age', log.shared === false ? 'local only' : age(viewAge));
    fill('purge-view', pairs([['δ (staleness bound)', age(log.deltaMs)], ['known position', String(num(log.knownSeq))],
      ['records held', int(log.records)]]));
    var recent = Array.isArray(log.recent) ? log.recent : [];
    var now = num(status.now) || Date.now();
    if (recent.length === 0) { fill('purge-log', none()); return; }
    // One block per record rather than a table: a record's scope can be long, and phones are narrow.
    var box = el('ol', 'records');
    recent.forEach(function (p) {
      var item = el('li', 'record');
      var head = el('p', 'record-head', '#' + num(p.seq) + ' · ' + (p.soft ? 'soft' : 'hard') + ' · ' + age(Math.max(0, now - num(p.t))) + ' ago');
      head.title = when(p.t);
      item.appendChild(head);
      item.appendChild(el('p', 'record-scope', scope(p) + (p.more ? ' (+' + p.more + ' more)' : '')));
      box.appendChild(item);
    });
    fill('purge-log', box);
  }

  function renderHotKeys(stats) {
    var hot = Array.isArray(stats.hotKeys) ? stats.hotKeys : [];
    text('hot-keys-scope', stats.hotKeysScope === 'fleet' ? 'fleet-wide' : stats.hotKeysScope === 'isolate' ? 'this isolate' : '');
    fill('hot-keys', hot.length === 0 ? none()
      : table(['key', 'requests', 'bytes', 'tier'], hot.map(function (k) {
        return [String(k.key), int(k.count), bytes(k.bytes), String(k.tier === undefined ? '–' : k.tier)];
      }), [1, 2], [3]));
  }

  function renderWarming(stats) {
    var warming = stats.warming && typeof stats.warming === 'object' ? stats.warming : null;
    var runs = warming && Array.isArray(warming.runs) ? warming.runs : [];
    text('warming-state', warming ? (warming.running ? 'running' : 'idle') : '');
    if (runs.length === 0) { fill('warming', none()); return; }
    var box = el('div', 'runs');
    runs.forEach(function (run) {
      var card = el('div', 'run');
      var label = [String(run.id), String(run.source)];
      if (run.trigger) label.push(String(run.trigger));
      if (!run.finishedAt) label.push('running');
      card.appendChild(el('p', 'run-id', label.join(' · ')));
      var facts = [['started', when(run.startedAt)], ['finished', run.finishedAt ? when(run.finishedAt) : '–']];
      if (run.urls !== undefined) facts.push(['URLs', int(run.urls)]);
      if (run.budget !== undefined) facts.push(['origin budget', int(run.budget)]);
      card.appendChild(pairs(facts.concat([
        ['warmed', int(run.warmed)], ['already fresh', int(run.alreadyFresh)], ['failed', int(run.failed)],
        ['skipped (over budget)', int(run.skippedOverBudget)]])));
      box.appendChild(card);
    });
    fill('warming', box);
  }

  function renderMemory(stats) {
    var m = stats.memory;
    if (!m) { fill('memory', none('memory tier off')); return; }
    var used = m.maxBytes > 0 ? Math.min(1, num(m.bytes) / num(m.maxBytes)) : 0;
    var meter = el('meter');
    meter.min = 0; meter.max = 1; meter.value = used;
    meter.setAttribute('aria-label', 'memory used');
    var box = el('div');
    box.appendChild(meter);
    box.appendChild(pairs([['used', bytes(m.bytes) + ' of ' + bytes(m.maxBytes) + ' (' + pct(used) + ')'], ['peak', bytes(m.peakBytes)], ['entries', int(m.entries)]]));
    fill('memory', box);
  }

  function renderCounters(stats) {
    var c = stats.counters || {};
    var names = Object.keys(c).sort();
    fill('counters', names.length === 0 ? none() : table(['counter', 'value'], names.map(function (n) { return [n, int(c[n])]; }), [1]));
  }

  function signedOut() {
    stopped = true;
    text('poll-state', 'signed out');
    $('signed-out').hidden = false;
  }

  function getJson(path) {
    return fetch(prefix + path, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } }).then(function (res) {
      if (res.status === 401) { var e = new Error('unauthorized'); e.unauthorized = true; throw e; }
      if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
      return res.json();
    });
  }

  function poll() {
    Promise.all([getJson('/stats?hotKeys=fleet'), getJson('/dashboard/status')]).then(function (results) {
      var stats = results[0] || {}, status = results[1] || {};
      var now = Date.now();
      var steps = [renderTraffic, renderLatency, renderRedis, renderPurges, renderHotKeys, renderWarming, renderMemory, renderCounters];
      steps.forEach(function (step) {
        try { step(stats, step === renderTraffic ? now : status); } catch (error) { console.warn('dashboard: ' + error.message); }
      });
      text('poll-state', 'updated ' + new Date(now).toLocaleTimeString('en-GB') + ' · every ' + pollMs / 1000 + ' s');
      body.setAttribute('data-polls', String(num(body.getAttribute('data-polls')) + 1));
    }, function (error) {
      if (error && error.unauthorized) return signedOut();
      text('poll-state', 'update failed: ' + (error && error.message ? error.message : String(error)) + ' (retrying)');
    }).then(schedule);
  }

  /** The next poll in pollMs; a hidden tab polls again only once it is shown (each poll costs Redis reads). */
  function schedule() {
    if (stopped) return;
    setTimeout(function () {
      if (!document.hidden) return poll();
      text('poll-state', 'paused while the tab is hidden');
      document.addEventListener('visibilitychange', function shown() {
        if (document.hidden) return;
        document.removeEventListener('visibilitychange', shown);
        poll();
      });
    }, pollMs);
  }
  poll();
})();
`
