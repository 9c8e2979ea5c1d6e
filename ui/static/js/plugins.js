// The plugin list: owner, current version, schedule with its next run in its
// timezone, last run and a sparkline of recent durations. Paging, the name
// filter and the summaries are done by the server (GET /v1/plugins?q=&
// offset=&limit=&summary=true), so the page stays quick with thousands of
// plugins and runs.
import { api, query, enc } from './api.js';
import { t } from './i18n.js';
import { h, clear, field, select, route, fmtTime, fmtRelative, fmtDuration, statusBadge, sparkline, debounce, errorBox } from './dom.js';
import { uploadZone } from './upload.js';

export const PAGE = 50;

export async function render(ctx) {
  const { me, params, main } = ctx;
  ctx.title(t('nav.plugins'));
  let q = params.get('q') || '';
  let owner = params.get('owner') === me.name ? me.name : '';
  let offset = Math.max(0, parseInt(params.get('offset') || '0', 10) || 0);

  const search = h('input', { type: 'search', id: 'plugin-search', value: q, autocomplete: 'off', placeholder: t('plugins.searchPlaceholder') });
  const ownerSel = select([['', t('plugins.allOwners')], [me.name, t('plugins.mine')]], owner === me.name ? me.name : '', { id: 'plugin-owner' });
  const results = h('div', { class: 'results', 'aria-busy': 'true' });
  const countLine = h('p', { class: 'muted count', role: 'status' });
  const toolbar = h('div', { class: 'toolbar' },
    field(t('plugins.search'), search, t('plugins.searchHint')),
    field(t('plugins.owner'), ownerSel));

  const head = h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.plugins') }));
  if (me.role !== 'viewer') {
    const panel = h('section', { class: 'card new-plugin', hidden: true, 'aria-labelledby': 'new-plugin-title' });
    const toggle = h('button', { type: 'button', class: 'primary', id: 'new-plugin', 'aria-expanded': 'false', 'aria-controls': 'new-plugin-panel', text: t('plugins.new') });
    panel.id = 'new-plugin-panel';
    toggle.addEventListener('click', () => {
      panel.hidden = !panel.hidden;
      toggle.setAttribute('aria-expanded', String(!panel.hidden));
      if (!panel.hidden) panel.querySelector('input').focus();
    });
    const nameInput = h('input', { type: 'text', id: 'new-plugin-name', autocomplete: 'off', pattern: '[a-z0-9][a-z0-9\\-]{0,62}', required: true, spellcheck: 'false' });
    panel.append(
      h('h2', { id: 'new-plugin-title', text: t('plugins.new') }),
      field(t('plugins.name'), nameInput, t('plugins.nameHint')),
      uploadZone({
        name: () => nameInput.value.trim(),
        suggest: (file) => {
          if (!nameInput.value) nameInput.value = file.name.replace(/\.wasm$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
        },
        done: (res) => ctx.go(route(['plugins', res.plugin], null) + '/versions'),
      }));
    head.append(toggle);
    main.replaceChildren(head, panel, toolbar, countLine, results);
  } else {
    main.replaceChildren(head, toolbar, countLine, results);
  }

  let ctl = null;
  async function load() {
    if (ctl) ctl.abort();
    ctl = new AbortController();
    const signal = AbortSignal.any([ctl.signal, ctx.signal]);
    ctx.replace(route(['plugins'], { q, owner, offset: offset || '' }));
    results.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await api('GET', query('/v1/plugins', { q, owner, offset, limit: PAGE, summary: 'true' }), { signal });
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(results).append(errorBox(err));
      results.setAttribute('aria-busy', 'false');
      return;
    }
    results.setAttribute('aria-busy', 'false');
    const ps = data.plugins;
    countLine.textContent = ps.length === 0 ? (q || owner ? t('plugins.noMatch') : t('plugins.none'))
      : t('plugins.showing', { from: offset + 1, to: offset + ps.length });
    clear(results);
    if (ps.length > 0) results.append(table(ps));
    const pager = h('nav', { class: 'pager', 'aria-label': t('common.pages') });
    const prev = h('button', { type: 'button', text: t('common.prev'), disabled: offset === 0, on: { click: () => { offset = Math.max(0, offset - PAGE); load(); } } });
    const next = h('button', { type: 'button', text: t('common.next'), disabled: !data.has_more, on: { click: () => { offset += PAGE; load(); } } });
    pager.append(prev, ' ', next);
    results.append(pager);
  }
  const reload = debounce(() => { offset = 0; load(); }, 200);
  search.addEventListener('input', () => { q = search.value.trim(); reload(); });
  ownerSel.addEventListener('change', () => { owner = ownerSel.value; offset = 0; load(); });
  // "/" jumps to the search box, as in many list pages.
  const slash = (e) => {
    if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) { e.preventDefault(); search.focus(); }
  };
  document.addEventListener('keydown', slash);
  ctx.signal.addEventListener('abort', () => document.removeEventListener('keydown', slash));
  await load();
}

function table(ps) {
  const th = (key) => h('th', { scope: 'col', text: t(key) });
  return h('table', { class: 'plugins' },
    h('caption', { class: 'sr-only', text: t('nav.plugins') }),
    h('thead', {}, h('tr', {}, th('plugins.name'), th('plugins.owner'), th('plugins.version'), th('plugins.schedule'), th('plugins.lastRun'), th('plugins.recentRuns'))),
    h('tbody', {}, ps.map(row)));
}

function row(p) {
  const s = p.summary || { last: null, recent: [] };
  const nameCell = h('td', { class: 'name' },
    h('a', { href: route(['plugins', p.name]), text: p.name }),
    p.description ? h('div', { class: 'desc', text: p.description }) : null,
    p.capabilities_missing && p.capabilities_missing.length
      ? h('div', { class: 'warn-inline', text: t('plugins.missingShort', { caps: p.capabilities_missing.join(', ') }) }) : null);
  let sched = h('span', { class: 'muted', text: t('plugins.noSchedule') });
  if (p.schedule) {
    sched = h('div', {},
      h('code', { text: p.schedule.cron }), ' ', h('span', { class: 'tz', text: p.schedule.timezone }),
      p.schedule.enabled && p.next_runs && p.next_runs.length
        ? h('div', { class: 'next', text: t('plugins.next', { time: fmtTime(p.next_runs[0], p.schedule.timezone, true) }) })
        : h('div', { class: 'muted', text: t('sched.disabled') }));
  }
  const last = s.last
    ? h('td', {}, h('a', { href: route(['invocations', s.last.id]), 'aria-label': t('plugins.lastRunLink', { status: t('status.' + s.last.status) }) }, statusBadge(s.last.status)),
      ' ', h('time', { datetime: s.last.started_at, title: fmtTime(s.last.started_at), text: fmtRelative(s.last.started_at) }),
      s.last.status === 'running' || s.last.status === 'skipped' ? null : h('span', { class: 'muted' }, ' · ', fmtDuration(s.last.duration_ms)))
    : h('td', { class: 'muted', text: t('plugins.never') });
  return h('tr', {},
    nameCell,
    h('td', { text: p.owner }),
    h('td', { class: 'num', text: p.current_version ? 'v' + p.current_version : '—' }),
    h('td', {}, sched),
    last,
    h('td', {}, sparkline(s.recent)));
}
