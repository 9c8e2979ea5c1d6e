// Invocation history, filtered by plugin, trigger, status and caller and
// paged by the server (before=<id>), and one invocation with its output and
// logs. Output and logs are shown as text, never as HTML.
import { api, query, enc } from './api.js';
import { t } from './i18n.js';
import { h, clear, field, select, route, fmtTime, fmtDuration, statusBadge, errorBox, pre, logTable, debounce } from './dom.js';

export const TRIGGERS = ['http', 'cron', 'webhook', 'cli', 'plugin'];
export const STATUSES = ['running', 'ok', 'error', 'timeout', 'skipped'];
const PAGE = 50;

export async function renderList(ctx) {
  ctx.title(t('nav.invocations'));
  const box = h('section');
  ctx.main.replaceChildren(h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.invocations') })), box);
  await historyView(ctx, box, { base: ['invocations'] });
}

// historyView renders filters and a paged table into box. fixed.plugin pins
// the plugin (on a plugin's page); fixed.base is the route to keep filters in.
export async function historyView(ctx, box, fixed) {
  const p = ctx.params;
  const f = { plugin: fixed.plugin || p.get('plugin') || '', trigger: p.get('trigger') || '', status: p.get('status') || '', caller: p.get('caller') || '' };
  const trig = select([['', t('hist.allTriggers')], ...TRIGGERS.map(x => [x, t('trigger.' + x)])], f.trigger, { id: 'filter-trigger' });
  const stat = select([['', t('hist.allStatuses')], ...STATUSES.map(x => [x, t('status.' + x)])], f.status, { id: 'filter-status' });
  const caller = h('input', { type: 'text', id: 'filter-caller', value: f.caller, autocomplete: 'off', spellcheck: 'false' });
  const filters = h('div', { class: 'toolbar' });
  if (!fixed.plugin) {
    const plugin = h('input', { type: 'text', id: 'filter-plugin', value: f.plugin, autocomplete: 'off', spellcheck: 'false' });
    plugin.addEventListener('input', debounce(() => { f.plugin = plugin.value.trim(); load(); }, 300));
    filters.append(field(t('hist.plugin'), plugin));
  }
  filters.append(field(t('hist.trigger'), trig), field(t('hist.status'), stat), field(t('hist.caller'), caller),
    h('div', { class: 'field' }, h('span', { class: 'label-spacer', 'aria-hidden': 'true', text: ' ' }),
      h('button', { type: 'button', id: 'history-refresh', text: t('common.refresh'), on: { click: () => load() } })));
  const results = h('div', { class: 'results', id: 'history' });
  box.append(filters, results);

  let ctl = null;
  let tbody = null;
  let more = null;
  async function load(before) {
    if (ctl && !before) ctl.abort();
    ctl = new AbortController();
    const signal = AbortSignal.any([ctl.signal, ctx.signal]);
    if (!before) ctx.replace(route(fixed.base, { plugin: fixed.plugin ? '' : f.plugin, trigger: f.trigger, status: f.status, caller: f.caller }));
    results.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await api('GET', query('/v1/invocations', { ...f, before, limit: PAGE }), { signal });
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(results).append(errorBox(err));
      return;
    } finally {
      results.setAttribute('aria-busy', 'false');
    }
    const invs = data.invocations;
    if (!before) {
      clear(results);
      if (invs.length === 0) {
        results.append(h('p', { class: 'muted', role: 'status', text: t('hist.none') }));
        return;
      }
      tbody = h('tbody');
      results.append(table(tbody, !fixed.plugin));
      more = h('button', { type: 'button', id: 'history-older', text: t('hist.older') });
      more.addEventListener('click', () => load(more.dataset.before));
      results.append(h('div', { class: 'pager' }, more));
    }
    for (const inv of invs) tbody.append(row(inv, !fixed.plugin));
    more.dataset.before = invs.length ? invs[invs.length - 1].id : '';
    more.hidden = invs.length < PAGE;
  }
  trig.addEventListener('change', () => { f.trigger = trig.value; load(); });
  stat.addEventListener('change', () => { f.status = stat.value; load(); });
  caller.addEventListener('input', debounce(() => { f.caller = caller.value.trim(); load(); }, 300));
  await load();
}

function table(tbody, withPlugin) {
  const th = (k) => h('th', { scope: 'col', text: t(k) });
  return h('table', { class: 'history' },
    h('caption', { class: 'sr-only', text: t('nav.invocations') }),
    h('thead', {}, h('tr', {}, th('inv.started'), withPlugin ? th('hist.plugin') : null, th('hist.status'), th('hist.trigger'),
      th('hist.caller'), th('ver.version'), th('inv.function'), th('inv.duration'), th('inv.error'))),
    tbody);
}

function row(inv, withPlugin) {
  return h('tr', { 'data-status': inv.status, 'data-trigger': inv.trigger },
    h('td', { class: 'nowrap' }, h('a', { href: route(['invocations', inv.id]), text: fmtTime(inv.started_at) })),
    withPlugin ? h('td', {}, h('a', { href: route(['plugins', inv.plugin]), text: inv.plugin })) : null,
    h('td', {}, statusBadge(inv.status)),
    h('td', { text: t('trigger.' + inv.trigger) }),
    h('td', { text: inv.caller }),
    h('td', { class: 'num', text: inv.version ? 'v' + inv.version : '—' }),
    h('td', {}, h('code', { text: inv.function })),
    h('td', { class: 'num', text: inv.status === 'running' || inv.status === 'skipped' ? '—' : fmtDuration(inv.duration_ms) }),
    h('td', { class: 'err-snippet', text: inv.error ? inv.error.slice(0, 120) : '' }));
}

// renderOne shows one invocation with its output and logs.
export async function renderOne(ctx, id) {
  const inv = await api('GET', '/v1/invocations/' + enc(id), { signal: ctx.signal });
  ctx.title(t('inv.title', { plugin: inv.plugin }));
  const dl = h('dl', { class: 'facts wide' });
  const fact = (k, v) => dl.append(h('dt', { text: t(k) }), h('dd', {}, v));
  fact('hist.plugin', h('a', { href: route(['plugins', inv.plugin]), text: inv.plugin }));
  fact('hist.status', statusBadge(inv.status));
  fact('inv.started', fmtTime(inv.started_at));
  fact('inv.duration', inv.status === 'running' ? '—' : fmtDuration(inv.duration_ms));
  fact('hist.trigger', t('trigger.' + inv.trigger));
  fact('hist.caller', inv.caller);
  fact('ver.version', inv.version ? 'v' + inv.version : '—');
  fact('inv.function', h('code', { text: inv.function }));
  fact('inv.id', h('code', { text: inv.id }));
  const out = [];
  if (inv.error) out.push(h('h2', { text: t('inv.error') }), h('pre', { class: 'error-text', id: 'inv-error' }, inv.error));
  out.push(h('h2', { text: t('inv.output') }));
  if (inv.output_encoding === 'base64') out.push(h('p', { class: 'muted', text: t('inv.base64') }));
  if (inv.output_truncated) out.push(h('p', { class: 'muted', text: t('inv.truncated') }));
  out.push(inv.output ? pre(inv.output) : h('p', { class: 'muted', text: t('inv.noOutput') }));
  out.push(h('h2', { text: t('inv.logs') }), logTable(inv.logs));
  const head = h('div', { class: 'page-head' }, h('div', {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/invocations', text: t('nav.invocations') }), ' / '),
    h('h1', { tabindex: -1, text: t('inv.title', { plugin: inv.plugin }) })));
  if (inv.status === 'running') {
    head.append(h('button', { type: 'button', text: t('common.refresh'), on: { click: () => ctx.go(route(['invocations', inv.id])) } }));
  }
  ctx.main.replaceChildren(head, dl, ...out);
}
