// Reports (rendered in a sandboxed frame) and tickets (read-only), per
// tenant within the user's ceiling; and what the other library pages
// (filters.js, assets.js) share: the tenant picker and the ceiling check.
import { api, query, enc } from './api.js';
import { t } from './i18n.js';
import { h, clear, field, select, route, fmtTime, errorBox, debounce } from './dom.js';

const TENANT_KEY = 'lhk.tenant';

// allows reports whether the signed-in user may use capability over HTTP:
// admins always; others when their ceiling lists it, and a viewer only for
// reading (the API cuts a viewer's ceiling to the read capabilities).
export function allows(me, capability) {
  if (!me) return false;
  if (me.role === 'admin') return true;
  if (me.role === 'viewer' && !capability.endsWith('.read')) return false;
  return (me.ceiling.capabilities || []).includes(capability);
}

// tenantPicker lets the user choose a tenant of their ceiling: a list when
// the ceiling names tenants, a text box when it covers all. An admin's box
// suggests the tenants named in users' ceilings.
export function tenantPicker(ctx, onChange) {
  const me = ctx.me;
  const all = me.role === 'admin' || (me.ceiling.tenants || []).includes('*');
  let tenant = ctx.params.get('tenant') || localStorage.getItem(TENANT_KEY) || '';
  let control, suggestions = null;
  if (all) {
    control = h('input', { type: 'text', id: 'tenant', value: tenant, autocomplete: 'off', spellcheck: 'false' });
    control.addEventListener('input', debounce(() => change(control.value.trim()), 400));
    if (me.role === 'admin') {
      suggestions = h('datalist', { id: 'tenant-list' });
      control.setAttribute('list', 'tenant-list');
      api('GET', '/v1/users', { signal: ctx.signal }).then(d => {
        const ts = new Set(d.users.flatMap(u => u.ceiling.tenants || []).filter(x => x !== '*'));
        suggestions.append(...[...ts].sort().map(x => h('option', { value: x })));
      }).catch(() => { /* suggestions only */ });
    }
  } else {
    const ts = me.ceiling.tenants || [];
    if (!ts.includes(tenant)) tenant = ts[0] || '';
    control = select(ts.map(x => [x, x]), tenant, { id: 'tenant' });
    control.addEventListener('change', () => change(control.value));
  }
  function change(v) {
    tenant = v;
    if (v) localStorage.setItem(TENANT_KEY, v);
    onChange(v);
  }
  const el = field(t('lib.tenant'), control, all ? t('lib.tenantHint') : null);
  if (suggestions) el.append(suggestions);
  return { el, get: () => tenant, none: !all && (me.ceiling.tenants || []).length === 0 };
}

export async function renderReports(ctx) {
  ctx.title(t('nav.reports'));
  const results = h('div', { class: 'results' });
  const picker = tenantPicker(ctx, () => load());
  ctx.main.replaceChildren(h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.reports') })),
    h('div', { class: 'toolbar' }, picker.el), results);
  let cursor = '';
  async function load(more) {
    const tenant = picker.get();
    if (!more) { cursor = ''; clear(results); ctx.replace(route(['reports'], { tenant })); }
    if (picker.none) { results.append(h('p', { class: 'muted', text: t('lib.noTenants') })); return; }
    if (!tenant) { results.append(h('p', { class: 'muted', text: t('lib.pickTenant') })); return; }
    let data;
    try {
      data = await api('GET', query('/v1/reports', { tenant, limit: 50, cursor }), { signal: ctx.signal });
    } catch (err) {
      if (err.name !== 'AbortError') results.append(errorBox(err));
      return;
    }
    if (!more && data.reports.length === 0) { results.append(h('p', { class: 'muted', text: t('lib.noReports') })); return; }
    const th = (k) => h('th', { scope: 'col', text: t(k) });
    let tbody = results.querySelector('tbody');
    if (!tbody) {
      tbody = h('tbody');
      results.append(h('table', { class: 'reports' }, h('thead', {}, h('tr', {}, th('lib.title'), th('hist.plugin'), th('lib.author'), th('lib.created'))), tbody));
    }
    for (const r of data.reports) {
      tbody.append(h('tr', {},
        h('td', {}, h('a', { href: route(['reports', tenant, r.id]), text: r.title || r.id })),
        h('td', { text: r.plugin }), h('td', { text: r.author }), h('td', { text: fmtTime(r.created_at) })));
    }
    results.querySelector('.pager')?.remove();
    cursor = data.next_cursor;
    if (cursor) results.append(h('div', { class: 'pager' }, h('button', { type: 'button', text: t('hist.older'), on: { click: () => load(true) } })));
  }
  await load();
}

// renderReport shows a report's HTML in a frame sandboxed twice over: the
// iframe has sandbox without allow-scripts, and the page itself is served
// with CSP sandbox and no script source, so report HTML can never run
// script or reach the API.
export async function renderReport(ctx, tenant, id) {
  const r = await api('GET', query('/v1/reports/' + enc(id), { tenant }), { signal: ctx.signal });
  ctx.title(r.title || r.id);
  const src = query('/v1/reports/' + enc(id) + '/view', { tenant });
  const frame = h('iframe', { class: 'report', id: 'report-frame', sandbox: 'allow-popups allow-popups-to-escape-sandbox', src, title: t('lib.reportFrame', { title: r.title }), referrerpolicy: 'no-referrer' });
  ctx.main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {},
      h('p', { class: 'crumbs' }, h('a', { href: route(['reports'], { tenant }), text: t('nav.reports') }), ' / '),
      h('h1', { tabindex: -1, text: r.title || r.id }),
      h('p', { class: 'muted', text: [r.tenant, r.plugin ? t('lib.byPlugin', { plugin: r.plugin, author: r.author }) : r.author, fmtTime(r.created_at)].filter(Boolean).join(' · ') })),
    h('p', { class: 'downloads' },
      h('a', { href: query('/v1/reports/' + enc(id) + '/download', { tenant, format: 'md' }), download: '', text: t('lib.downloadMd') }), ' · ',
      h('a', { href: query('/v1/reports/' + enc(id) + '/download', { tenant, format: 'html' }), download: '', text: t('lib.downloadHtml') }))),
    frame);
}

const TICKET_STATUSES = ['open', 'in_progress', 'resolved', 'closed'];

export async function renderTickets(ctx) {
  ctx.title(t('nav.tickets'));
  const results = h('div', { class: 'results' });
  const picker = tenantPicker(ctx, () => load());
  const status = select([['', t('lib.allStatuses')], ...TICKET_STATUSES.map(s => [s, t('ticket.' + s)])], ctx.params.get('status') || '', { id: 'ticket-status' });
  const text = h('input', { type: 'search', id: 'ticket-q', value: ctx.params.get('q') || '', autocomplete: 'off' });
  status.addEventListener('change', () => load());
  text.addEventListener('input', debounce(() => load(), 300));
  ctx.main.replaceChildren(h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.tickets') })),
    h('div', { class: 'toolbar' }, picker.el, field(t('hist.status'), status), field(t('lib.search'), text)), results);
  let cursor = '';
  let ctl = null;
  async function load(more) {
    const tenant = picker.get();
    if (!more) {
      cursor = '';
      clear(results);
      ctx.replace(route(['tickets'], { tenant, status: status.value, q: text.value.trim() }));
      if (ctl) ctl.abort();
      ctl = new AbortController();
    }
    if (picker.none) { results.append(h('p', { class: 'muted', text: t('lib.noTenants') })); return; }
    if (!tenant) { results.append(h('p', { class: 'muted', text: t('lib.pickTenant') })); return; }
    let data;
    try {
      data = await api('GET', query('/v1/tickets', { tenant, status: status.value, q: text.value.trim(), limit: 50, cursor }), { signal: AbortSignal.any([ctl.signal, ctx.signal]) });
    } catch (err) {
      if (err.name !== 'AbortError') results.append(errorBox(err));
      return;
    }
    if (!more && data.tickets.length === 0) { results.append(h('p', { class: 'muted', text: t('lib.noTickets') })); return; }
    const th = (k) => h('th', { scope: 'col', text: t(k) });
    let tbody = results.querySelector('tbody');
    if (!tbody) {
      tbody = h('tbody');
      results.append(h('table', { class: 'tickets' }, h('thead', {}, h('tr', {}, th('lib.title'), th('hist.status'), th('ticket.severity'), th('ticket.assignee'), th('lib.updated'))), tbody));
    }
    for (const tk of data.tickets) {
      tbody.append(h('tr', {},
        h('td', {}, h('a', { href: route(['tickets', tenant, tk.id]), text: tk.title || tk.id })),
        h('td', { text: t('ticket.' + tk.status) }),
        h('td', {}, h('span', { class: 'badge sev-' + tk.severity, text: t('sev.' + tk.severity) })),
        h('td', { text: tk.assignee || '—' }),
        h('td', { text: fmtTime(tk.updated_at) })));
    }
    results.querySelector('.pager')?.remove();
    cursor = data.next_cursor;
    if (cursor) results.append(h('div', { class: 'pager' }, h('button', { type: 'button', text: t('hist.older'), on: { click: () => load(true) } })));
  }
  await load();
}

export async function renderTicket(ctx, tenant, id) {
  const tk = await api('GET', query('/v1/tickets/' + enc(id), { tenant }), { signal: ctx.signal });
  ctx.title(tk.title || tk.id);
  const dl = h('dl', { class: 'facts wide' });
  const fact = (k, v) => dl.append(h('dt', { text: t(k) }), h('dd', {}, v));
  fact('lib.tenant', tk.tenant);
  fact('hist.status', t('ticket.' + tk.status));
  fact('ticket.severity', h('span', { class: 'badge sev-' + tk.severity, text: t('sev.' + tk.severity) }));
  fact('ticket.assignee', tk.assignee || '—');
  fact('ticket.reporter', tk.reporter || '—');
  fact('lib.created', fmtTime(tk.created_at));
  fact('lib.updated', fmtTime(tk.updated_at));
  if (tk.external_key) fact('ticket.externalKey', h('code', { text: tk.external_key }));
  fact('ticket.events', String((tk.events || []).length));
  const obs = (tk.observables || []);
  const comments = (tk.comments || []);
  ctx.main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {},
      h('p', { class: 'crumbs' }, h('a', { href: route(['tickets'], { tenant }), text: t('nav.tickets') }), ' / '),
      h('h1', { tabindex: -1, text: tk.title || tk.id }))),
    dl,
    h('h2', { text: t('ticket.description') }),
    tk.description ? h('pre', { class: 'prose' }, tk.description) : h('p', { class: 'muted', text: '—' }),
    h('h2', { text: t('ticket.observables') }),
    obs.length ? h('ul', { class: 'observables' }, obs.map(o => h('li', {}, h('span', { class: 'badge', text: o.type }), ' ', h('code', { text: o.value })))) : h('p', { class: 'muted', text: '—' }),
    h('h2', { text: t('ticket.comments') }),
    comments.length ? h('ol', { class: 'comments' }, comments.map(c => h('li', {},
      h('p', { class: 'muted' }, c.author, ' · ', fmtTime(c.at)), h('pre', { class: 'prose' }, c.body)))) : h('p', { class: 'muted', text: '—' }));
}
