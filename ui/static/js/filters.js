// The analysis filters of a tenant (GET /v1/filters): what each drops from
// searches that apply filters, why, whose it is, when it expires and how
// often it matched. Users with filters.write create, edit and delete them
// through the library's operations (POST /v1/filters/upsert, /delete);
// "Count hits" runs filters_stats (POST /v1/filters/stats) over a window.
import { api } from './api.js';
import { t } from './i18n.js';
import { h, clear, field, select, route, fmtTime, fmtRelative, fmtNumber, errorBox, notice, confirmButton } from './dom.js';
import { allows, tenantPicker } from './library.js';

// OPS are the field-search operators (lhk.Ops), in their stable order.
export const OPS = ['eq', 'contains', 'prefix', 'cidr', 'gt', 'lt', 'exists'];

// SYMBOLS write each operator in a condition's text.
const SYMBOLS = { eq: '=', contains: 'contains', prefix: 'starts with', cidr: 'in', gt: '>', lt: '<' };

// FIELDS are suggestions for a condition's field: common ECS names.
const FIELDS = ['event.code', 'event.dataset', 'event.action', 'host.name', 'user.name', 'source.ip', 'destination.ip',
  'destination.port', 'process.name', 'process.command_line', 'process.parent.name', 'url.full', 'dns.question.name', 'file.hash.sha256'];

const DAY = 86400000;
const SOON = 7 * DAY; // an expiry this close is highlighted
const STALE = 30 * DAY; // no hit for this long is highlighted
const WINDOWS = [1, 7, 30, 90]; // days "Count hits" may look back

// conditionText writes conditions readably, e.g.
// event.code = 4625 AND user.name = svc-backup.
export function conditionText(conds) {
  return (conds || []).map(c => {
    if (c.op === 'exists') return c.field + ' exists';
    return c.field + ' ' + (SYMBOLS[c.op] || c.op) + ' ' + valueText(c.value);
  }).join(' AND ');
}

// valueText shows a value bare when that is unambiguous, quoted otherwise.
function valueText(v) {
  if (typeof v === 'number') return String(v);
  const s = String(v ?? '');
  return s === '' || /[\s"]/.test(s) || s === 'AND' ? JSON.stringify(s) : s;
}

// conditionValue is the JSON value of a typed condition: gt and lt compare
// numbers numerically only when given a number; eq matches "4625" and 4625
// alike, so it keeps the text.
function conditionValue(op, text) {
  if ((op === 'gt' || op === 'lt') && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  return text;
}

// localInput is an ISO time as a datetime-local value, in the browser's zone.
function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export async function render(ctx) {
  const me = ctx.me;
  ctx.title(t('nav.filters'));
  const canWrite = allows(me, 'filters.write');
  const results = h('div', { class: 'results', id: 'filters' });
  const statsNote = h('p', { class: 'muted', id: 'stats-note', role: 'status' });
  const picker = tenantPicker(ctx, () => { resetForm(); load(); });

  // Count hits: filters_stats over a window; it records each filter's hit
  // count and last hit, which the table then shows.
  const windowSel = select(WINDOWS.map(d => [String(d), t('filters.lastDays', { n: d })]), '30', { id: 'stats-window' });
  const countBtn = h('button', { type: 'button', id: 'count-hits', text: t('filters.countHits'), on: { click: countHits } });
  const statsBox = h('div', { class: 'field field-button' }, h('span', { class: 'label-spacer', 'aria-hidden': 'true', text: '\u00a0' }), countBtn);

  const form = canWrite ? filterForm() : null;
  ctx.main.replaceChildren(
    h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.filters') })),
    h('p', { class: 'muted', text: t('filters.intro') }),
    h('div', { class: 'toolbar' }, picker.el, field(t('filters.window'), windowSel, t('filters.windowHint')), statsBox),
    statsNote, results, form ? form.el : null);

  let ctl = null;
  async function load() {
    const tenant = picker.get();
    ctx.replace(route(['filters'], { tenant }));
    if (ctl) ctl.abort();
    ctl = new AbortController();
    countBtn.disabled = !tenant;
    if (form) form.setTenant(tenant);
    if (picker.none) { clear(results).append(h('p', { class: 'muted', text: t('lib.noTenants') })); return; }
    if (!tenant) { clear(results).append(h('p', { class: 'muted', text: t('lib.pickTenant') })); return; }
    let data;
    try {
      data = await api('GET', '/v1/filters?' + new URLSearchParams({ tenant, include_expired: 'true' }), { signal: AbortSignal.any([ctl.signal, ctx.signal]) });
    } catch (err) {
      if (err.name !== 'AbortError') clear(results).append(errorBox(err));
      return;
    }
    clear(results);
    if (data.filters.length === 0) { results.append(h('p', { class: 'muted', text: t('filters.none') })); return; }
    results.append(filtersTable(tenant, data.filters));
  }

  async function countHits() {
    const tenant = picker.get();
    if (!tenant) return;
    const days = Number(windowSel.value);
    const to = new Date();
    const from = new Date(to.getTime() - days * DAY);
    countBtn.disabled = true;
    clear(statsNote).append(t('filters.counting'));
    try {
      const r = await api('POST', '/v1/filters/stats', { json: { tenant, from: from.toISOString(), to: to.toISOString() }, signal: ctx.signal });
      const hits = r.stats.reduce((n, s) => n + s.hits, 0);
      clear(statsNote).append(t('filters.counted', { n: r.stats.length, hits: fmtNumber(hits), days, time: fmtTime(to.toISOString()) }));
      await load();
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(statsNote).append(errorBox(err));
    } finally {
      countBtn.disabled = false;
    }
  }

  function filtersTable(tenant, list) {
    const th = (k) => h('th', { scope: 'col', text: t(k) });
    const now = Date.now();
    return h('table', { class: 'filters' },
      h('caption', { class: 'sr-only', text: t('filters.caption', { tenant }) }),
      h('thead', {}, h('tr', {}, th('filters.name'), th('filters.conditions'), th('filters.reason'), th('filters.owner'),
        th('lib.created'), th('filters.expires'), th('filters.hits'), th('filters.lastHit'),
        canWrite ? h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: t('common.actions') })) : null)),
      h('tbody', {}, list.map(f => filterRow(tenant, f, now))));
  }

  function filterRow(tenant, f, now) {
    const exp = f.expires_at ? new Date(f.expires_at).getTime() : null;
    const expired = exp !== null && exp <= now;
    const soon = exp !== null && !expired && exp - now <= SOON;
    // "No hits in 30 days": the last hit is older, or there was none and
    // the filter is older. The hit count and last hit are those of the
    // latest count (Count hits, or the filter-upkeep plugin).
    const last = f.last_hit ? new Date(f.last_hit).getTime() : null;
    const created = f.created_at ? new Date(f.created_at).getTime() : now;
    const stale = !expired && now - (last ?? created) > STALE;
    const expires = exp === null ? h('span', { class: 'muted', text: t('filters.never') }) : [
      h('span', { class: 'nowrap', text: fmtTime(f.expires_at) }),
      expired ? h('span', { class: 'badge expired', text: t('filters.expired') }) : null,
      soon ? h('span', { class: 'badge expiring', text: t('filters.expiresIn', { when: fmtRelative(f.expires_at) }) }) : null,
    ];
    const cls = [expired && 'expired', soon && 'expiring', stale && 'stale'].filter(Boolean).join(' ');
    let actions = null;
    if (canWrite) {
      const del = confirmButton(t('filters.delete'), t('filters.deleteConfirm', { name: f.name }), async () => {
        try {
          await api('POST', '/v1/filters/delete', { json: { tenant, name: f.name } });
          notice(t('filters.deleted', { name: f.name }));
          if (form && form.editing() === f.name) resetForm();
          await load();
        } catch (err) { notice(err.message, 'error'); }
      }, 'small danger');
      del.firstChild.setAttribute('aria-label', t('filters.deleteNamed', { name: f.name }));
      actions = h('td', { class: 'nowrap' },
        h('button', { type: 'button', class: 'small edit', 'aria-label': t('filters.editNamed', { name: f.name }), text: t('filters.edit'),
          on: { click: () => form.edit(f) } }), ' ', del);
    }
    return h('tr', { class: cls || false, dataset: { name: f.name } },
      h('td', {}, h('strong', { text: f.name })),
      h('td', {}, h('code', { class: 'conditions', text: conditionText(f.conditions) })),
      h('td', { class: 'reason', text: f.reason || '—' }),
      h('td', { text: f.owner || '—' }),
      h('td', { class: 'nowrap', text: fmtTime(f.created_at) }),
      h('td', {}, expires),
      h('td', { class: 'num hits', text: fmtNumber(f.hit_count) }),
      h('td', {}, h('span', { class: 'nowrap', text: f.last_hit ? fmtTime(f.last_hit) : '—' }),
        stale ? h('span', { class: 'badge stale', text: t('filters.noHits30') }) : null),
      actions);
  }

  function resetForm() { if (form) form.reset(); }

  // filterForm creates a filter or, after Edit, replaces one by name.
  function filterForm() {
    let editing = '', owner = '', tenant = '';
    const title = h('h2', { id: 'filter-form-title' });
    const where = h('p', { class: 'muted' });
    const name = h('input', { type: 'text', id: 'filter-name', autocomplete: 'off', spellcheck: 'false', required: true, maxlength: 200 });
    const reason = h('input', { type: 'text', id: 'filter-reason', autocomplete: 'off', class: 'wide' });
    const expires = h('input', { type: 'datetime-local', id: 'filter-expires' });
    const rows = h('ol', { class: 'cond-rows', id: 'cond-rows' });
    const preview = h('code', { id: 'cond-preview' });
    const msg = h('div');
    const cancel = h('button', { type: 'button', id: 'filter-cancel', text: t('filters.cancelEdit'), hidden: true, on: { click: () => reset() } });
    const add = h('button', { type: 'button', class: 'small', id: 'add-condition', text: t('filters.addCondition'), on: { click: () => { addRow(); rows.lastChild.querySelector('input').focus(); } } });

    function addRow(c = { field: '', op: 'eq', value: '' }) {
      const li = h('li', { class: 'cond-row' });
      const f = h('input', { type: 'text', class: 'cond-field mono', value: c.field, autocomplete: 'off', spellcheck: 'false', list: 'field-list', required: true });
      const op = select(OPS.map(o => [o, t('op.' + o)]), c.op, { class: 'cond-op' });
      const v = h('input', { type: 'text', class: 'cond-value mono', value: c.value === undefined || c.value === null ? '' : String(c.value), autocomplete: 'off', spellcheck: 'false' });
      const rm = h('button', { type: 'button', class: 'small cond-remove', text: t('filters.removeCondition'), on: { click: () => {
        li.remove();
        if (!rows.firstChild) addRow();
        renumber();
      } } });
      op.addEventListener('change', () => { v.hidden = op.value === 'exists'; showPreview(); });
      f.addEventListener('input', showPreview);
      v.addEventListener('input', showPreview);
      v.hidden = op.value === 'exists';
      li.append(f, ' ', op, ' ', v, ' ', rm);
      rows.append(li);
      renumber();
    }

    // renumber labels each row's controls by its position.
    function renumber() {
      [...rows.children].forEach((li, i) => {
        const n = i + 1;
        li.querySelector('.cond-field').setAttribute('aria-label', t('filters.fieldOf', { n }));
        li.querySelector('.cond-op').setAttribute('aria-label', t('filters.opOf', { n }));
        li.querySelector('.cond-value').setAttribute('aria-label', t('filters.valueOf', { n }));
        li.querySelector('.cond-remove').setAttribute('aria-label', t('filters.removeOf', { n }));
      });
      showPreview();
    }

    function conditions() {
      return [...rows.children].map(li => {
        const op = li.querySelector('.cond-op').value;
        const c = { field: li.querySelector('.cond-field').value.trim(), op };
        if (op !== 'exists') c.value = conditionValue(op, li.querySelector('.cond-value').value);
        return c;
      });
    }

    function showPreview() {
      preview.textContent = conditionText(conditions().filter(c => c.field));
    }

    function reset() {
      editing = ''; owner = '';
      title.textContent = t('filters.new');
      name.value = ''; name.readOnly = false;
      reason.value = ''; expires.value = '';
      clear(rows); clear(msg);
      addRow();
      cancel.hidden = true;
    }

    function edit(f) {
      reset();
      editing = f.name; owner = f.owner || '';
      title.textContent = t('filters.editTitle', { name: f.name });
      name.value = f.name; name.readOnly = true;
      reason.value = f.reason || '';
      expires.value = localInput(f.expires_at);
      clear(rows);
      for (const c of f.conditions || []) addRow(c);
      if (!rows.firstChild) addRow();
      cancel.hidden = false;
      el.scrollIntoView({ block: 'start' });
      reason.focus();
    }

    const el = h('form', { class: 'card filter-form', id: 'filter-form', 'aria-labelledby': 'filter-form-title', on: { submit: async e => {
      e.preventDefault();
      clear(msg);
      if (!tenant) { msg.append(errorBox({ message: t('lib.pickTenant') })); return; }
      const body = { tenant, name: name.value.trim(), conditions: conditions(), reason: reason.value.trim() };
      if (owner) body.owner = owner;
      if (expires.value) {
        const d = new Date(expires.value);
        if (isNaN(d)) { msg.append(errorBox({ message: t('filters.badExpiry') })); return; }
        body.expires_at = d.toISOString();
      }
      const btn = el.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        const saved = await api('POST', '/v1/filters/upsert', { json: body });
        notice(t('filters.saved', { name: saved.name }));
        reset();
        await load();
      } catch (err) {
        msg.append(errorBox(err));
      } finally {
        btn.disabled = false;
      }
    } } },
      title, where,
      h('div', { class: 'row' }, field(t('filters.name'), name, t('filters.nameHint')), field(t('filters.expires'), expires, t('filters.expiresHint'))),
      h('fieldset', {}, h('legend', { text: t('filters.conditionsAll') }), rows, h('div', { class: 'actions' }, add),
        h('p', { class: 'preview' }, h('span', { class: 'muted', text: t('filters.preview') + ' ' }), preview)),
      field(t('filters.reason'), reason, t('filters.reasonHint')),
      h('datalist', { id: 'field-list' }, FIELDS.map(x => h('option', { value: x }))),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'filter-save', text: t('filters.save') }), cancel),
      msg);
    reset();
    return {
      el, reset, edit,
      editing: () => editing,
      setTenant: (v) => { tenant = v; where.textContent = v ? t('filters.inTenant', { tenant: v }) : ''; },
    };
  }

  await load();
}
