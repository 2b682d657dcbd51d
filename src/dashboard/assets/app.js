// The Armored fleet dashboard: one page, hash-routed views, data from the
// cloud's /api with the bearer token. Every value is written with
// textContent, never as HTML, and no view asks for readings' values.
'use strict';
(function () {
  const TOKEN_KEY = 'armored-dashboard-token';
  const REFRESH_MS = 5000;
  const main = document.getElementById('main');
  const statusLine = document.getElementById('status');
  let timer = null;
  let chart = null;

  // ----- helpers ---------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  const fmt = new Intl.NumberFormat('en');
  function num(v) { return v === null || v === undefined ? '–' : fmt.format(Math.round(v * 100) / 100); }
  // The overview carries at most a few hundred connections, the longest-open
  // first, and the total: say which part a table shows.
  function shownOf(o) {
    return o.connections.length < o.connections_total
      ? 'the ' + num(o.connections.length) + ' longest-open of ' + num(o.connections_total)
      : num(o.connections_total);
  }
  function when(ms) { return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'never'; }
  function ago(ms) {
    if (!ms) return 'never';
    const s = Math.max(0, (Date.now() - ms) / 1000);
    if (s < 90) return Math.round(s) + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' days ago';
  }
  function duration(s) {
    if (s < 90) return Math.round(s) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' days';
  }
  function until(ms) {
    const d = (ms - Date.now()) / 86400000;
    return d < 0 ? 'expired' : d < 2 ? Math.round(d * 24) + ' h' : Math.round(d) + ' days';
  }
  function card(label, value, cls) {
    return el('div', { class: 'card' }, el('div', { class: 'label' }, label), el('div', { class: 'value ' + (cls || '') }, value));
  }
  function table(columns, rows, empty) {
    const head = el('tr', {}, ...columns.map(c => el('th', { class: c.num ? 'num' : '' }, c.title)));
    const body = rows.length ? rows.map(r => el('tr', {}, ...columns.map(c => {
      const v = c.get(r);
      return el('td', { class: (c.num ? 'num ' : '') + (c.cls ? c.cls(r) : '') }, c.num ? num(v) : v);
    }))) : [el('tr', {}, el('td', { colspan: String(columns.length), class: 'muted' }, empty || 'none'))];
    return el('table', {}, el('thead', {}, head), el('tbody', {}, ...body));
  }

  // ----- token and API ---------------------------------------------------
  function hashParams() { return new URLSearchParams(location.hash.slice(1)); }
  function takeTokenFromHash() {
    const p = hashParams();
    if (p.has('token')) {
      sessionStorage.setItem(TOKEN_KEY, p.get('token'));
      p.delete('token');
      history.replaceState(null, '', '#' + p.toString());
    }
  }
  class Unauthorized extends Error {}
  async function api(path) {
    const token = sessionStorage.getItem(TOKEN_KEY) || '';
    const r = await fetch(path, { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
    if (r.status === 401) throw new Unauthorized('the token was refused');
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
    return body;
  }
  function showLogin(message) {
    clearInterval(timer);
    main.replaceChildren();
    document.body.dataset.view = 'login';
    document.body.dataset.ready = '1';
    const form = document.getElementById('login');
    form.hidden = false;
    document.getElementById('login-error').textContent = message || '';
  }
  document.getElementById('login').addEventListener('submit', ev => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim());
    document.getElementById('login').hidden = true;
    route();
  });

  // ----- views -----------------------------------------------------------
  const views = {
    async overview() {
      const [o, s] = await Promise.all([api('/api/overview'), api('/api/series')]);
      const n = o.node, t = o.traffic, h = o.handshakes;
      const out = [
        el('h2', {}, 'Node'),
        el('div', { class: 'cards' },
          card('Storage', n.storage_failing ? 'FAILING' : 'ok', n.storage_failing ? 'bad' : 'good'),
          card('Backend', n.backend), card('Up', duration(n.uptime_s)),
          card('Memory', num(n.rss_bytes / 1048576) + ' MiB'), card('CPU', num(n.cpu_seconds) + ' s'),
          card('Ingest lag (p50)', n.ingest_lag_p50_s === null ? '–' : num(n.ingest_lag_p50_s) + ' s'),
          n.broker ? card('Broker', n.broker.connected ? 'connected' : 'disconnected', n.broker.connected ? 'good' : 'bad') : null),
        el('h2', {}, 'Readings'),
        el('div', { class: 'cards' },
          card('Stored', num(t.readings_stored)), card('Duplicates dropped', num(t.duplicates)),
          card('Rejected', num(t.rejected), t.rejected ? 'warn' : ''), card('Messages', num(t.messages)),
          card('Connected gateways', num(o.connections_by_role.gateway || 0)),
          card('Connected devices', num(o.connections_by_role.device || 0))),
        el('h2', {}, 'Readings in and out per second'),
        el('div', { class: 'chart', id: 'rates' }),
        el('h2', {}, 'Handshakes'),
        el('div', { class: 'cards' },
          card('Full', num(h.full)), card('Resumed', num(h.resumed)), card('0-RTT', num(h.zero_rtt)),
          card('Failed', num(h.failed), h.failed ? 'warn' : '')),
        el('h2', {}, 'Rejections by reason'),
        table([{ title: 'Reason', get: r => r.reason }, { title: 'Count', num: true, get: r => r.count }],
              o.rejections.filter(r => r.count > 0), 'no rejections'),
      ];
      main.replaceChildren(...out);
      drawRates(s);
    },
    async connections() {
      const o = await api('/api/overview');
      main.replaceChildren(
        el('h2', {}, 'Connected now (' + shownOf(o) + ')'),
        table([{ title: 'Identity', get: c => c.identity }, { title: 'Role', get: c => c.role },
               { title: 'Address', get: c => c.address }, { title: 'Connected', get: c => ago(c.since_ms) },
               { title: 'Handshake', get: c => c.handshake }],
              o.connections, 'no gateway or device is connected'),
        el('h2', {}, 'Handshake failures by reason'),
        table([{ title: 'Reason', get: r => r.reason }, { title: 'Count', num: true, get: r => r.count }],
              o.handshakes.failures, 'no failed handshakes'));
    },
    async devices() {
      const p = hashParams();
      const q = p.get('q') || '', inactive = p.get('inactive_s') || '0', page = Number(p.get('page') || '1');
      const d = await api('/api/devices?' + new URLSearchParams({ q, inactive_s: inactive, page: String(page), per_page: '50' }));
      const pages = Math.max(1, Math.ceil(d.total / d.per_page));
      const go = (changes) => { const n = hashParams(); for (const [k, v] of Object.entries(changes)) n.set(k, v); location.hash = n.toString(); };
      const search = el('input', { type: 'search', placeholder: 'identity contains…', value: q, 'aria-label': 'search devices' });
      search.addEventListener('change', () => go({ q: search.value, page: '1' }));
      const filter = el('select', { 'aria-label': 'activity filter' },
        ...[['0', 'all devices'], ['3600', 'not seen for 1 h'], ['86400', 'not seen for 1 day'], ['604800', 'not seen for 7 days']]
          .map(([v, label]) => { const o = el('option', { value: v }, label); if (v === inactive) o.selected = true; return o; }));
      filter.addEventListener('change', () => go({ inactive_s: filter.value, page: '1' }));
      main.replaceChildren(
        el('h2', {}, 'Devices (' + num(d.total) + (inactive !== '0' ? ' inactive' : '') + ')'),
        el('div', { class: 'toolbar' }, search, filter,
          el('button', { onclick: () => go({ page: String(Math.max(1, page - 1)) }), ...(page <= 1 ? { disabled: '' } : {}) }, '‹ previous'),
          el('span', {}, 'page ' + page + ' of ' + pages),
          el('button', { onclick: () => go({ page: String(page + 1) }), ...(page >= pages ? { disabled: '' } : {}) }, 'next ›')),
        table([{ title: 'Identity', get: r => r.identity }, { title: 'Key id', get: r => r.key_id },
               { title: 'Enrolled', get: r => when(r.registered_ms) },
               { title: 'Last seen', get: r => ago(r.last_seen_ms), cls: r => (!r.last_seen_ms || Date.now() - r.last_seen_ms > 3600000) ? 'warn' : '' }],
              d.devices, 'no device matches'));
    },
    async gaps() {
      const g = await api('/api/gaps?limit=200');
      main.replaceChildren(
        el('h2', {}, 'Sequence gaps: readings sealed but never stored'),
        el('div', { class: 'cards' }, card('Device epochs with gaps', num(g.totals.series), g.totals.series ? 'warn' : 'good'),
          card('Readings missing', num(g.totals.missing), g.totals.missing ? 'warn' : 'good')),
        el('h2', {}, 'By device, epoch and sequence (first ' + g.gaps.length + ' shown)'),
        table([{ title: 'Device', get: r => r.device }, { title: 'Epoch', num: true, get: r => r.epoch },
               { title: 'From seq', num: true, get: r => r.first }, { title: 'To seq', num: true, get: r => r.last },
               { title: 'Missing', num: true, get: r => r.missing }],
              g.gaps, 'no gaps: every sealed reading before the newest of each device is stored'));
    },
    async security() {
      const [o, e] = await Promise.all([api('/api/overview'), api('/api/events?limit=200')]);
      main.replaceChildren(
        el('h2', {}, 'Rejections by reason'),
        table([{ title: 'Reason', get: r => r.reason }, { title: 'Count', num: true, get: r => r.count }],
              o.rejections.filter(r => r.count > 0), 'no rejections'),
        el('h2', {}, 'Authentication failures'),
        el('div', { class: 'cards' }, card('TLS handshakes failed', num(o.handshakes.failed), o.handshakes.failed ? 'warn' : ''),
          card('Dashboard tokens refused', num(o.dashboard_auth_failures), o.dashboard_auth_failures ? 'warn' : '')),
        el('h2', {}, 'Audit trail, newest first'),
        table([{ title: 'When', get: r => when(r.at_ms) }, { title: 'Kind', get: r => r.kind },
               { title: 'Reason', get: r => r.reason }, { title: 'Peer', get: r => r.peer }, { title: 'Detail', get: r => r.detail }],
              e.events, 'no security events'));
    },
    async certificates() {
      const o = await api('/api/overview');
      const c = o.certificates;
      const row = (name, x) => ({ name, subject: x.subject, not_after_ms: x.not_after_ms });
      main.replaceChildren(
        el('h2', {}, 'Certificates the cloud holds'),
        table([{ title: 'Certificate', get: r => r.name }, { title: 'Subject', get: r => r.subject },
               { title: 'Expires', get: r => when(r.not_after_ms) },
               { title: 'In', get: r => until(r.not_after_ms), cls: r => (r.not_after_ms - Date.now() < 30 * 86400000) ? 'bad' : 'good' }],
              [row('cloud', c.cloud), row('fleet CA', c.ca)]),
        el('h2', {}, 'Revocations'),
        el('div', { class: 'cards' },
          card('Revoked certificates', num(c.crl.revoked)),
          card('CRL issued', ago(c.crl.last_update_ms)),
          card('CRL next update', c.crl.next_update_ms ? until(c.crl.next_update_ms) : '–', c.crl.next_update_ms && c.crl.next_update_ms < Date.now() ? 'bad' : '')),
        el('h2', {}, 'Connected peers\' certificates (' + shownOf(o) + ')'),
        table([{ title: 'Identity', get: r => r.identity }, { title: 'Role', get: r => r.role },
               { title: 'Expires in', get: r => r.not_after_ms ? until(r.not_after_ms) : '–', cls: r => (r.not_after_ms && r.not_after_ms - Date.now() < 30 * 86400000) ? 'bad' : '' }],
              o.connections, 'no connections'));
    },
    async commands() {
      const [o, c] = await Promise.all([api('/api/overview'), api('/api/commands?limit=200')]);
      const k = o.commands;
      main.replaceChildren(
        el('h2', {}, 'Commands by outcome'),
        el('div', { class: 'cards' }, card('Sent', num(k.sent)), card('Acknowledged', num(k.acknowledged), 'good'),
          card('Refused by device', num(k.refused_by_device), k.refused_by_device ? 'warn' : ''),
          card('Expired', num(k.expired), k.expired ? 'warn' : ''), card('No route', num(k.no_route), k.no_route ? 'warn' : '')),
        el('h2', {}, 'Newest first'),
        table([{ title: 'Id', num: true, get: r => r.id }, { title: 'Device', get: r => r.device },
               { title: 'Command', get: r => r.command }, { title: 'Status', get: r => r.status },
               { title: 'Reason', get: r => r.reason }, { title: 'Sent', get: r => when(r.created_ms) },
               { title: 'Updated', get: r => ago(r.updated_ms) }],
              c.commands, 'no commands sent'));
    },
  };

  function drawRates(s) {
    const box = document.getElementById('rates');
    if (!box || typeof uPlot === 'undefined') return;
    const names = ['readings_stored', 'messages', 'rejected'];
    const data = [s.t, ...names.map(n => s.rates[n] || s.t.map(() => null))];
    const colours = ['#067647', '#175cd3', '#b42318'];
    if (chart) chart.destroy();
    chart = new uPlot({
      width: Math.max(320, box.clientWidth - 10), height: 220,
      series: [{}, ...names.map((n, i) => ({ label: n.replace('_', ' ') + '/s', stroke: colours[i], width: 2 }))],
      axes: [{}, { label: 'per second' }],
    }, data, box);
  }

  async function route() {
    clearInterval(timer);
    const name = hashParams().get('view') || 'overview';
    const view = views[name] || views.overview;
    document.querySelectorAll('#nav a').forEach(a => a.classList.toggle('active', a.getAttribute('href') === '#view=' + name));
    document.body.dataset.view = name;
    const load = async () => {
      try {
        await view();
        document.body.dataset.ready = '1';
        statusLine.textContent = 'updated ' + new Date().toLocaleTimeString();
      } catch (e) {
        if (e instanceof Unauthorized) { showLogin(sessionStorage.getItem(TOKEN_KEY) ? e.message : ''); return; }
        statusLine.textContent = 'error: ' + e.message;
        statusLine.className = 'bad';
      }
    };
    document.body.dataset.ready = '0';
    await load();
    timer = setInterval(load, REFRESH_MS);
  }

  takeTokenFromHash();
  window.addEventListener('hashchange', () => { takeTokenFromHash(); route(); });
  if (!sessionStorage.getItem(TOKEN_KEY)) showLogin(); else route();
})();
