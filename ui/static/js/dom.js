// DOM helpers. Everything the UI shows goes through h() and text nodes:
// strings are never parsed as HTML, so stored data (plugin output, logs,
// names, descriptions) cannot inject markup or script.
import { t, lang } from './i18n.js';

// h builds an element. attrs: class, text, on (event handlers), dataset,
// and any other attribute by name (false/null/undefined leave it out).
// Children are nodes, strings (as text), arrays, or null.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'required' || k === 'readOnly') el[k] = !!v;
    else if (k === 'href') el.setAttribute('href', safeHref(v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

// safeHref allows only the UI's own routes and API paths.
export function safeHref(v) {
  const s = String(v);
  return s.startsWith('#/') || s.startsWith('/v1/') || s.startsWith('/ui/') ? s : '#/';
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// svg builds an SVG element with attributes.
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// route builds a hash route from parts and query parameters.
export function route(parts, params) {
  let s = '#/' + parts.map(p => encodeURIComponent(p)).join('/');
  if (params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
    const qs = q.toString();
    if (qs) s += '?' + qs;
  }
  return s;
}

let noticeTimer = 0;
// notice shows a short message in the live region (read out by screen readers).
export function notice(msg, kind = 'ok') {
  const box = document.getElementById('notices');
  clear(box).append(h('p', { class: 'notice notice-' + kind, text: msg }));
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => clear(box), 6000);
}

// errorBox is an inline error message announced at once.
export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert', text: messageOf(err) });
}

export function messageOf(err) {
  if (!err) return '';
  if (err.code === 'forbidden') return t('err.forbidden', { message: err.message });
  return err.message || String(err);
}

// field wraps a control with its visible label; hint is optional help text.
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || ('f' + (++fieldSeq));
  control.id = id;
  const kids = [h('label', { for: id, text: label }), control];
  if (hint) {
    const hid = id + '-hint';
    control.setAttribute('aria-describedby', hid);
    kids.push(h('small', { id: hid, class: 'hint', text: hint }));
  }
  return h('div', { class: 'field' }, kids);
}

export function select(options, value, attrs = {}) {
  const s = h('select', attrs);
  for (const [v, label] of options) s.append(h('option', { value: v, text: label, selected: v === value }));
  s.value = value;
  return s;
}

// Formatting, in the chosen language.

// fmtTime shows a time in the user's timezone, or in timeZone (named) when
// given; schedule times show the weekday instead of seconds.
export function fmtTime(iso, timeZone, schedule = false) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  try {
    return dateFormat(timeZone || '', schedule).format(d);
  } catch {
    return d.toISOString();
  }
}

// Formatters are costly to build (a list page formats hundreds of times), so
// they are kept by language, timezone and kind.
const formats = new Map();

function dateFormat(timeZone, schedule) {
  const key = lang() + '|' + timeZone + '|' + schedule;
  let f = formats.get(key);
  if (!f) {
    const opts = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    if (schedule) opts.weekday = 'short';
    else opts.second = '2-digit';
    if (timeZone) { opts.timeZone = timeZone; opts.timeZoneName = 'short'; }
    f = new Intl.DateTimeFormat(lang(), opts);
    formats.set(key, f);
  }
  return f;
}

function cached(key, make) {
  let f = formats.get(key);
  if (!f) { f = make(); formats.set(key, f); }
  return f;
}

export function fmtRelative(iso) {
  if (!iso) return '';
  const sec = (new Date(iso).getTime() - Date.now()) / 1000;
  const rtf = cached('rel|' + lang(), () => new Intl.RelativeTimeFormat(lang(), { numeric: 'auto' }));
  const abs = Math.abs(sec);
  if (abs < 60) return rtf.format(Math.round(sec), 'second');
  if (abs < 3600) return rtf.format(Math.round(sec / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(sec / 3600), 'hour');
  return rtf.format(Math.round(sec / 86400), 'day');
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1) return ms.toFixed(2) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  const m = Math.floor(ms / 60000);
  return m + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

export function fmtBytes(n) {
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  return (n / (1 << 20)).toFixed(1) + ' MiB';
}

export function fmtNumber(n) {
  return cached('num|' + lang(), () => new Intl.NumberFormat(lang())).format(n);
}

// statusBadge shows an invocation status in words and colour.
export function statusBadge(status) {
  return h('span', { class: 'badge status-' + status, text: t('status.' + status) });
}

// sparkline draws recent runs as bars: height by duration, colour by status.
export function sparkline(runs) {
  const w = 120, hgt = 24, n = 20, gap = 1;
  const bw = w / n - gap;
  const finished = runs.filter(r => r.status !== 'running' && r.status !== 'skipped');
  const max = Math.max(1, ...finished.map(r => r.duration_ms));
  const counts = {};
  for (const r of runs) counts[r.status] = (counts[r.status] || 0) + 1;
  const parts = Object.entries(counts).map(([s, c]) => c + ' ' + t('status.' + s));
  const durations = finished.map(r => r.duration_ms).sort((a, b) => a - b);
  const label = runs.length === 0 ? t('plugins.noRuns') : t('plugins.sparkLabel', {
    n: runs.length, statuses: parts.join(', '),
    median: durations.length ? fmtDuration(durations[Math.floor(durations.length / 2)]) : '—',
    max: durations.length ? fmtDuration(durations[durations.length - 1]) : '—',
  });
  const s = svg('svg', { class: 'spark', width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'aria-label': label });
  s.append(svg('title', { text: label }));
  s.append(svg('line', { x1: 0, y1: hgt - 0.5, x2: w, y2: hgt - 0.5, class: 'spark-base' }));
  const start = n - runs.length;
  runs.forEach((r, i) => {
    const frac = r.status === 'running' || r.status === 'skipped' ? 0.15 : Math.max(0.08, Math.sqrt(r.duration_ms / max));
    const bh = Math.round(frac * (hgt - 2) * 10) / 10;
    s.append(svg('rect', { x: (start + i) * (bw + gap), y: hgt - 1 - bh, width: bw, height: bh, class: 'spark-' + r.status }));
  });
  return s;
}

// pre shows text as it is (never as HTML), JSON pretty-printed.
export function pre(text, cls = 'output') {
  let s = text ?? '';
  if (s && /^[\s]*[[{]/.test(s)) {
    try { s = JSON.stringify(JSON.parse(s), null, 2); } catch { /* show as it is */ }
  }
  return h('pre', { class: cls, tabindex: 0 }, s);
}

// logTable shows plugin log lines.
export function logTable(lines) {
  if (!lines || lines.length === 0) return h('p', { class: 'muted', text: t('inv.noLogs') });
  return h('table', { class: 'logs' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('inv.time') }), h('th', { scope: 'col', text: t('inv.level') }), h('th', { scope: 'col', text: t('inv.message') }))),
    h('tbody', {}, lines.map(l => h('tr', { class: 'log-' + l.level },
      h('td', { class: 'nowrap', text: fmtTime(l.time) }), h('td', { text: l.level }), h('td', { class: 'msg', text: l.message })))));
}

// debounce runs fn after ms of quiet.
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// copyButton copies text to the clipboard.
export function copyButton(text) {
  return h('button', { type: 'button', class: 'small', text: t('common.copy'), on: { click: async () => {
    try { await navigator.clipboard.writeText(text); notice(t('common.copied')); } catch { notice(t('common.copyFailed'), 'error'); }
  } } });
}

// confirmButton asks for a second, explicit click before it acts.
export function confirmButton(label, confirmLabel, action, cls = 'danger') {
  const wrap = h('span', { class: 'confirm' });
  const first = h('button', { type: 'button', class: cls, text: label });
  const yes = h('button', { type: 'button', class: cls, text: confirmLabel });
  const no = h('button', { type: 'button', text: t('common.cancel') });
  const reset = () => { wrap.replaceChildren(first); first.focus(); };
  first.addEventListener('click', () => { wrap.replaceChildren(yes, ' ', no); yes.focus(); });
  no.addEventListener('click', reset);
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try { await action(); } finally { yes.disabled = false; if (wrap.isConnected) reset(); }
  });
  wrap.append(first);
  return wrap;
}
