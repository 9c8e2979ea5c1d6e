// A plugin's page: run it, read its history, manage versions (upload, roll
// back), its schedule (with a live preview), settings (config and limits),
// grant and owner. Controls that would change something are shown only to
// those the API lets change it; the API checks again.
import { api, request, query, enc, ApiError } from './api.js';
import { t } from './i18n.js';
import { h, clear, field, select, route, fmtTime, fmtDuration, fmtBytes, statusBadge, errorBox, notice, pre, logTable, debounce, copyButton, confirmButton } from './dom.js';
import { uploadZone } from './upload.js';
import { historyView } from './invocations.js';

// CAPABILITIES are lhk's capabilities in their stable order (lhk.Capabilities;
// a Go test keeps the two lists equal).
export const CAPABILITIES = [
  'logs.read', 'filters.read', 'filters.write', 'tickets.read', 'tickets.write',
  'assets.read', 'endpoints.read', 'endpoints.respond', 'reports.read',
  'reports.write', 'kv', 'notify.send', 'http', 'plugins.invoke',
];

const TABS = ['run', 'history', 'versions', 'schedule', 'settings', 'grant', 'owner'];

const LIMITS = [
  ['timeout_ms', 30000], ['memory_mb', 64], ['max_input_bytes', 1048576],
  ['max_output_bytes', 1048576], ['max_log_lines', 1000], ['concurrency', 8],
];

export async function render(ctx, name, tab) {
  if (!TABS.includes(tab)) tab = 'run';
  const p = await api('GET', '/v1/plugins/' + enc(name), { signal: ctx.signal });
  const me = ctx.me;
  const perm = {
    run: me.role !== 'viewer',
    change: me.role === 'admin' || (me.role === 'analyst' && p.owner === me.name),
  };
  ctx.title(p.name);
  const refresh = () => ctx.go(route(['plugins', p.name, tab]));

  const head = h('div', { class: 'page-head plugin-head' },
    h('div', {},
      h('p', { class: 'crumbs' }, h('a', { href: '#/plugins', text: t('nav.plugins') }), ' / '),
      h('h1', { tabindex: -1, text: p.name }),
      p.description ? h('p', { class: 'desc', text: p.description }) : null),
    h('dl', { class: 'facts' },
      h('dt', { text: t('plugins.owner') }), h('dd', { id: 'fact-owner', text: p.owner }),
      h('dt', { text: t('plugin.current') }), h('dd', { id: 'fact-version', text: p.current_version ? 'v' + p.current_version : '—' }),
      h('dt', { text: t('plugin.entrypoint') }), h('dd', {}, h('code', { text: p.entrypoint })),
      h('dt', { text: t('plugins.schedule') }), h('dd', {}, p.schedule
        ? [h('code', { text: p.schedule.cron }), ' ', p.schedule.timezone, p.schedule.enabled ? '' : ' (' + t('sched.disabled') + ')']
        : t('plugins.noSchedule'))));
  const warn = p.capabilities_missing.length
    ? h('p', { class: 'warn', role: 'note' }, t('grant.missing', { caps: p.capabilities_missing.join(', ') }), ' ',
      h('a', { href: route(['plugins', p.name, 'grant']), text: t('grant.see') }))
    : null;
  const tabs = h('nav', { class: 'tabs', 'aria-label': t('plugin.sections') }, h('ul', {}, TABS.map(id =>
    h('li', {}, h('a', { href: route(['plugins', p.name, id]), id: 'tab-' + id, 'aria-current': id === tab ? 'page' : false, text: t('tab.' + id) })))));
  const box = h('section', { class: 'tab-body', 'aria-labelledby': 'tab-' + tab });
  ctx.main.replaceChildren(head, warn || '', tabs, box);
  const sections = { run: runTab, history: historyTab, versions: versionsTab, schedule: scheduleTab, settings: settingsTab, grant: grantTab, owner: ownerTab };
  await sections[tab](ctx, p, box, perm, refresh);
}

// --- Run ---------------------------------------------------------------

function runTab(ctx, p, box, perm) {
  box.append(h('h2', { text: t('tab.run') }));
  if (!perm.run) {
    box.append(h('p', { class: 'muted', text: t('run.viewer') }));
    return;
  }
  if (!p.current_version) {
    box.append(h('p', { class: 'muted', text: t('run.noVersion') }));
    return;
  }
  const cur = p.versions.find(v => v.version === p.current_version) || { exports: [p.entrypoint] };
  const fns = (cur.exports || []).filter(e => !e.startsWith('_'));
  if (!fns.includes(p.entrypoint)) fns.unshift(p.entrypoint);
  const fnSel = select(fns.map(f => [f, f === p.entrypoint ? f + ' (' + t('plugin.entrypoint') + ')' : f]), p.entrypoint, { id: 'run-function' });
  const input = h('textarea', { id: 'run-input', rows: 6, spellcheck: 'false', class: 'mono' });
  const btn = h('button', { type: 'submit', class: 'primary', id: 'run-button', text: t('run.run') });
  const out = h('div', { class: 'run-result', id: 'run-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'run-form', on: { submit: async e => {
    e.preventDefault();
    btn.disabled = true;
    clear(out).append(h('p', { class: 'muted', text: t('run.running') }));
    const fn = fnSel.value;
    const path = '/v1/plugins/' + enc(p.name) + '/invoke' + (fn !== p.entrypoint ? '/' + enc(fn) : '');
    let id = '', output = null, failure = null;
    try {
      const res = await request('POST', path, { body: input.value, headers: { 'Content-Type': 'application/octet-stream' } });
      id = res.headers.get('X-Lhk-Invocation') || '';
      output = new TextDecoder().decode(await res.arrayBuffer());
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      failure = err;
      id = err.invocation;
    } finally {
      btn.disabled = false;
    }
    let inv = null;
    if (id) {
      try { inv = await api('GET', '/v1/invocations/' + enc(id)); } catch { /* show what we have */ }
    }
    clear(out).append(...runResult(inv, output, failure));
  } } },
    h('div', { class: 'row' }, field(t('run.function'), fnSel)),
    field(t('run.input'), input, t('run.inputHint')),
    h('div', { class: 'actions' }, btn));
  input.addEventListener('keydown', e => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit(); });
  box.append(form, out);
}

function runResult(inv, output, failure) {
  const kids = [];
  if (inv) {
    kids.push(h('p', { class: 'run-meta' }, statusBadge(inv.status), ' ',
      h('span', { id: 'run-duration', text: t('inv.tookMs', { d: fmtDuration(inv.duration_ms) }) }), ' · ',
      h('a', { href: route(['invocations', inv.id]), text: t('run.open') })));
  }
  if (failure) kids.push(errorBox(failure));
  kids.push(h('h3', { text: t('inv.output') }));
  const text = output ?? (inv && inv.output) ?? '';
  kids.push(text === '' ? h('p', { class: 'muted', text: t('inv.noOutput') }) : pre(text));
  kids.push(h('h3', { text: t('inv.logs') }), logTable(inv ? inv.logs : []));
  return kids;
}

// --- History -----------------------------------------------------------

async function historyTab(ctx, p, box) {
  box.append(h('h2', { text: t('tab.history') }));
  await historyView(ctx, box, { plugin: p.name, base: ['plugins', p.name, 'history'] });
}

// --- Versions ----------------------------------------------------------

function versionsTab(ctx, p, box, perm, refresh) {
  box.append(h('h2', { text: t('tab.versions') }));
  const th = (k) => h('th', { scope: 'col', text: t(k) });
  const rows = [...p.versions].reverse().map(v => {
    const current = v.version === p.current_version;
    let action = current ? h('span', { class: 'badge current', text: t('ver.current') }) : '';
    if (!current && perm.change) {
      action = h('button', { type: 'button', class: 'small', 'data-version': v.version,
        text: v.version < p.current_version ? t('ver.rollback', { v: v.version }) : t('ver.makeCurrent', { v: v.version }),
        on: { click: async (e) => {
          e.target.disabled = true;
          try {
            await api('PATCH', '/v1/plugins/' + enc(p.name), { json: { current_version: v.version } });
            notice(t('ver.nowCurrent', { v: v.version }));
            refresh();
          } catch (err) {
            e.target.disabled = false;
            box.append(errorBox(err));
          }
        } } });
    }
    return h('tr', { class: current ? 'current' : '' },
      h('td', { class: 'num', text: 'v' + v.version }),
      h('td', {}, h('code', { title: v.sha256, text: v.sha256.slice(0, 12) })),
      h('td', { class: 'num', text: fmtBytes(v.size) }),
      h('td', { text: v.uploaded_by }),
      h('td', { text: fmtTime(v.uploaded_at) }),
      h('td', {}, action));
  });
  box.append(h('table', { class: 'versions' },
    h('caption', { class: 'sr-only', text: t('tab.versions') }),
    h('thead', {}, h('tr', {}, th('ver.version'), th('ver.sha256'), th('ver.size'), th('ver.uploadedBy'), th('ver.uploadedAt'), h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: t('common.actions') })))),
    h('tbody', {}, rows)));
  if (perm.change) {
    box.append(h('h3', { text: t('ver.upload') }), uploadZone({ name: () => p.name, done: refresh }));
  }
}

// --- Schedule ----------------------------------------------------------

function scheduleTab(ctx, p, box, perm, refresh) {
  box.append(h('h2', { text: t('tab.schedule') }));
  const s = p.schedule;
  if (s) {
    box.append(h('p', {}, t('sched.current'), ' ', h('code', { text: s.cron }), ' ', s.timezone, ' — ',
      s.enabled ? t('sched.enabled') : t('sched.disabled'),
      s.updated_by ? ' · ' + t('sched.updatedBy', { user: s.updated_by, time: fmtTime(s.updated_at) }) : ''));
    if (s.enabled && p.next_runs && p.next_runs.length) {
      box.append(h('p', { class: 'muted', text: t('sched.nextSaved') }), nextList(p.next_runs, s.timezone, 'sched-next-saved'));
    }
  } else {
    box.append(h('p', { class: 'muted', text: t('plugins.noSchedule') }));
  }
  if (!perm.change) return;

  const tzs = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC', 'Asia/Tokyo'];
  const tzList = h('datalist', { id: 'tz-list' }, ['UTC', ...tzs].map(z => h('option', { value: z })));
  const cron = h('input', { type: 'text', id: 'sched-cron', value: s ? s.cron : '', spellcheck: 'false', autocomplete: 'off', class: 'mono', required: true });
  const tz = h('input', { type: 'text', id: 'sched-tz', value: s ? s.timezone : (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'), list: 'tz-list', spellcheck: 'false', autocomplete: 'off' });
  const input = h('textarea', { id: 'sched-input', rows: 3, class: 'mono', spellcheck: 'false' });
  input.value = s ? s.input : '';
  const enabled = h('input', { type: 'checkbox', id: 'sched-enabled', checked: s ? s.enabled : true });
  const preview = h('div', { id: 'sched-preview', class: 'preview', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'sched-save', text: t('sched.save') });
  const msg = h('div');

  let seq = 0;
  const update = debounce(async () => {
    const my = ++seq;
    if (!cron.value.trim()) { clear(preview); cron.removeAttribute('aria-invalid'); return; }
    try {
      const r = await api('POST', '/v1/schedules/preview', { json: { cron: cron.value.trim(), timezone: tz.value.trim(), count: 5 } });
      if (my !== seq) return;
      cron.removeAttribute('aria-invalid');
      clear(preview).append(h('p', { class: 'muted', text: t('sched.preview', { tz: r.timezone }) }), nextList(r.next_runs, r.timezone, 'sched-next'));
    } catch (err) {
      if (my !== seq) return;
      cron.setAttribute('aria-invalid', 'true');
      clear(preview).append(h('p', { class: 'error', id: 'sched-error', role: 'alert', text: t('sched.bad', { message: err.message }) }));
    }
  }, 250);
  cron.addEventListener('input', update);
  tz.addEventListener('input', update);
  cron.setAttribute('aria-describedby', 'sched-preview');

  const form = h('form', { class: 'sched-form', on: { submit: async e => {
    e.preventDefault();
    clear(msg);
    save.disabled = true;
    try {
      await api('PUT', '/v1/plugins/' + enc(p.name) + '/schedule', { json: { cron: cron.value.trim(), timezone: tz.value.trim(), input: input.value, enabled: enabled.checked } });
      notice(t('sched.saved'));
      refresh();
    } catch (err) {
      msg.append(errorBox(err));
    } finally {
      save.disabled = false;
    }
  } } },
    h('h3', { text: s ? t('sched.change') : t('sched.set') }),
    h('div', { class: 'row' },
      field(t('sched.cron'), cron, t('sched.cronHint')),
      field(t('sched.tz'), tz, t('sched.tzHint'))),
    tzList,
    preview,
    field(t('sched.input'), input, t('sched.inputHint')),
    h('div', { class: 'check' }, enabled, h('label', { for: enabled.id, text: t('sched.enabledLabel') })),
    h('div', { class: 'actions' }, save, ' ',
      s ? confirmButton(t('sched.remove'), t('sched.removeConfirm'), async () => {
        try {
          await api('DELETE', '/v1/plugins/' + enc(p.name) + '/schedule');
          notice(t('sched.removed'));
          refresh();
        } catch (err) { msg.append(errorBox(err)); }
      }) : ''),
    msg);
  box.append(form);
  if (cron.value) update();
}

function nextList(times, tz, id) {
  return h('ol', { class: 'next-runs', id }, times.map(x => h('li', {}, h('time', { datetime: x, text: fmtTime(x, tz, true) }))));
}

// --- Settings: description, entrypoint, config, limits, webhook ----------

function settingsTab(ctx, p, box, perm, refresh) {
  box.append(h('h2', { text: t('tab.settings') }));
  const ro = !perm.change;
  const desc = h('input', { type: 'text', id: 'set-description', value: p.description, readOnly: ro });
  const cur = p.versions.find(v => v.version === p.current_version);
  const exports = (cur && cur.exports) || [p.entrypoint];
  const entry = select(exports.map(e => [e, e]), p.entrypoint, { id: 'set-entrypoint', disabled: ro });

  const cfgRows = h('tbody');
  const addRow = (k = '', v = '') => {
    const key = h('input', { type: 'text', value: k, 'aria-label': t('set.key'), class: 'mono', readOnly: ro, spellcheck: 'false' });
    const val = h('input', { type: 'text', value: v, 'aria-label': t('set.value'), class: 'mono', readOnly: ro, spellcheck: 'false' });
    const tr = h('tr', {}, h('td', {}, key), h('td', {}, val));
    if (!ro) tr.append(h('td', {}, h('button', { type: 'button', class: 'small', text: t('set.removeKey'), 'aria-label': t('set.removeKeyNamed', { key: k || '…' }), on: { click: () => tr.remove() } })));
    cfgRows.append(tr);
  };
  for (const [k, v] of Object.entries(p.config || {}).sort()) addRow(k, v);
  const cfgTable = h('table', { class: 'config' },
    h('caption', { class: 'sr-only', text: t('set.config') }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('set.key') }), h('th', { scope: 'col', text: t('set.value') }))), cfgRows);

  const limits = LIMITS.map(([k, def]) => [k, h('input', { type: 'number', min: 0, step: 1, id: 'limit-' + k, value: p[k], readOnly: ro, class: 'num' }), def]);
  const msg = h('div');
  const form = h('form', { class: 'settings-form', on: { submit: async e => {
    e.preventDefault();
    clear(msg);
    const upd = {};
    if (desc.value !== p.description) upd.description = desc.value;
    if (entry.value !== p.entrypoint) upd.entrypoint = entry.value;
    const cfg = {};
    for (const tr of cfgRows.querySelectorAll('tr')) {
      const [k, v] = tr.querySelectorAll('input');
      if (k.value.trim()) cfg[k.value.trim()] = v.value;
    }
    if (JSON.stringify(Object.entries(cfg).sort()) !== JSON.stringify(Object.entries(p.config || {}).sort())) upd.config = cfg;
    for (const [k, input] of limits) {
      const n = input.value === '' ? 0 : Number(input.value);
      if (!Number.isInteger(n) || n < 0) { msg.append(errorBox({ message: t('set.badNumber', { field: t('limit.' + k) }) })); return; }
      if (n !== p[k]) upd[k] = n;
    }
    if (Object.keys(upd).length === 0) { notice(t('set.nothing'), 'info'); return; }
    try {
      await api('PATCH', '/v1/plugins/' + enc(p.name), { json: upd });
      notice(t('set.saved'));
      refresh();
    } catch (err) { msg.append(errorBox(err)); }
  } } },
    field(t('set.description'), desc),
    field(t('plugin.entrypoint'), entry, t('set.entryHint')),
    h('h3', { text: t('set.config') }),
    h('p', { class: 'muted', text: t('set.configHint') }),
    cfgTable,
    ro ? '' : h('button', { type: 'button', class: 'small', text: t('set.addKey'), on: { click: () => { addRow(); cfgRows.lastChild.querySelector('input').focus(); } } }),
    h('h3', { text: t('set.limits') }),
    h('p', { class: 'muted', text: t('set.limitsHint') }),
    h('div', { class: 'limits' }, limits.map(([k, input, def]) => field(t('limit.' + k), input, t('set.default', { v: def })))),
    ro ? '' : h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'settings-save', text: t('set.save') })),
    msg);
  box.append(form);

  if (perm.change) {
    const secretBox = h('div', { 'aria-live': 'polite' });
    box.append(h('h3', { text: t('hook.title') }), h('p', { class: 'muted', text: t('hook.hint', { path: '/hooks/' + p.name }) }),
      confirmButton(t('hook.rotate'), t('hook.rotateConfirm'), async () => {
        clear(secretBox);
        try {
          const r = await api('POST', '/v1/plugins/' + enc(p.name) + '/webhook', { json: {} });
          secretBox.append(h('p', { class: 'secret' }, t('hook.shown'), ' ', h('code', { text: r.secret }), ' ', copyButton(r.secret)));
        } catch (err) { secretBox.append(errorBox(err)); }
      }, ''), secretBox);
  }
}

// --- Grant -------------------------------------------------------------

function grantTab(ctx, p, box, perm, refresh) {
  box.append(h('h2', { text: t('tab.grant') }));
  const req = p.capabilities_required;
  box.append(h('h3', { text: t('grant.required') }));
  if (req.length === 0) box.append(h('p', { class: 'muted', text: t('grant.requiresNothing') }));
  else box.append(h('ul', { class: 'caps', id: 'caps-required' }, req.map(c => {
    const ok = !p.capabilities_missing.includes(c);
    return h('li', { class: ok ? 'cap-ok' : 'cap-missing' }, h('code', { text: c }), ' ',
      h('span', { class: 'badge ' + (ok ? 'status-ok' : 'status-error'), text: ok ? t('grant.granted') : t('grant.notGranted') }));
  })));

  const g = p.grant;
  box.append(h('h3', { text: t('grant.current') }),
    h('dl', { class: 'facts wide' },
      h('dt', { text: t('grant.capabilities') }), h('dd', { id: 'grant-caps', text: g.capabilities.join(', ') || t('grant.none') }),
      h('dt', { text: t('grant.tenants') }), h('dd', { id: 'grant-tenants', text: g.tenants.join(', ') || t('grant.none') }),
      h('dt', { text: t('grant.hosts') }), h('dd', { text: g.allowed_hosts.join(', ') || t('grant.none') })));
  if (!perm.change) return;

  const boxes = CAPABILITIES.map(c => {
    const cb = h('input', { type: 'checkbox', id: 'cap-' + c.replace('.', '-'), value: c, checked: g.capabilities.includes(c) });
    return h('div', { class: 'check' + (req.includes(c) ? ' needed' : '') }, cb, h('label', { for: cb.id }, h('code', { text: c }),
      req.includes(c) ? ' ' + t('grant.neededMark') : ''));
  });
  const tenants = h('input', { type: 'text', id: 'grant-tenants-input', value: g.tenants.join(', '), spellcheck: 'false' });
  const hosts = h('input', { type: 'text', id: 'grant-hosts-input', value: g.allowed_hosts.join(', '), spellcheck: 'false' });
  const msg = h('div');
  const list = (s) => s.split(/[\s,]+/).map(x => x.trim()).filter(Boolean);
  box.append(h('form', { class: 'grant-form', on: { submit: async e => {
    e.preventDefault();
    clear(msg);
    const body = {
      capabilities: [...box.querySelectorAll('.grant-form input[type=checkbox]:checked')].map(c => c.value),
      tenants: list(tenants.value), allowed_hosts: list(hosts.value),
    };
    try {
      await api('PUT', '/v1/plugins/' + enc(p.name) + '/grant', { json: body });
      notice(t('grant.saved'));
      refresh();
    } catch (err) { msg.append(errorBox(err)); }
  } } },
    h('h3', { text: t('grant.change') }),
    h('p', { class: 'muted', text: ctx.me.role === 'admin' ? t('grant.adminHint') : t('grant.ceilingHint') }),
    h('fieldset', {}, h('legend', { text: t('grant.capabilities') }), h('div', { class: 'cap-grid' }, boxes)),
    field(t('grant.tenants'), tenants, t('grant.tenantsHint')),
    field(t('grant.hosts'), hosts, t('grant.hostsHint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'grant-save', text: t('grant.save') })),
    msg));
}

// --- Owner: transfer, delete --------------------------------------------

async function ownerTab(ctx, p, box, perm, refresh) {
  box.append(h('h2', { text: t('tab.owner') }),
    h('p', {}, t('owner.is'), ' ', h('strong', { id: 'owner-name', text: p.owner })),
    h('p', { class: 'muted', text: t('owner.created', { time: fmtTime(p.created_at) }) }));
  if (!perm.change) return;
  const to = h('input', { type: 'text', id: 'transfer-to', list: 'user-list', autocomplete: 'off', spellcheck: 'false', required: true });
  const users = h('datalist', { id: 'user-list' });
  if (ctx.me.role === 'admin') {
    try {
      const r = await api('GET', '/v1/users', { signal: ctx.signal });
      for (const u of r.users) if (u.role !== 'viewer' && u.name !== p.owner) users.append(h('option', { value: u.name }));
    } catch { /* typing the name still works */ }
  }
  const msg = h('div');
  box.append(h('form', { class: 'transfer-form', on: { submit: e => e.preventDefault() } },
    h('h3', { text: t('owner.transfer') }),
    h('p', { class: 'muted', text: t('owner.transferHint') }),
    field(t('owner.to'), to), users,
    h('div', { class: 'actions' }, confirmButton(t('owner.transfer'), t('owner.transferConfirm'), async () => {
      clear(msg);
      if (!to.value.trim()) { msg.append(errorBox({ message: t('owner.needName') })); return; }
      try {
        await api('PATCH', '/v1/plugins/' + enc(p.name), { json: { owner: to.value.trim() } });
        notice(t('owner.transferred', { user: to.value.trim() }));
        refresh();
      } catch (err) { msg.append(errorBox(err)); }
    }, 'primary')),
    msg));
  box.append(h('h3', { text: t('owner.delete') }), h('p', { class: 'muted', text: t('owner.deleteHint') }),
    confirmButton(t('owner.delete'), t('owner.deleteConfirm', { plugin: p.name }), async () => {
      try {
        await api('DELETE', '/v1/plugins/' + enc(p.name));
        notice(t('owner.deleted', { plugin: p.name }));
        ctx.go('#/plugins');
      } catch (err) { box.append(errorBox(err)); }
    }));
}
