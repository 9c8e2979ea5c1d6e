// The asset inventory: look a host up by name or IP (POST /v1/assets/lookup)
// for its owner, OS, criticality and tags; analysts and admins add or
// replace an asset (PUT /v1/assets) in a tenant of their ceiling.
import { api, ApiError } from './api.js';
import { t } from './i18n.js';
import { h, clear, field, select, route, fmtTime, errorBox, notice } from './dom.js';
import { tenantPicker } from './library.js';

const CRITICALITIES = ['low', 'medium', 'high', 'critical'];

// splitList reads a comma- or space-separated list (IP addresses).
const splitList = (s) => s.split(/[\s,]+/).filter(Boolean);
// splitTags reads a comma-separated list: a tag may hold spaces.
const splitTags = (s) => s.split(',').map(x => x.trim()).filter(Boolean);

export async function render(ctx) {
  const me = ctx.me;
  ctx.title(t('nav.assets'));
  const canWrite = me.role !== 'viewer';
  const result = h('div', { id: 'asset-result', 'aria-live': 'polite' });
  const picker = tenantPicker(ctx, () => { if (q.value.trim()) lookup(); else clear(result); syncRoute(); });
  const q = h('input', { type: 'search', id: 'asset-q', value: ctx.params.get('q') || '', autocomplete: 'off', spellcheck: 'false', required: true });
  const search = h('form', { class: 'toolbar', role: 'search', on: { submit: e => { e.preventDefault(); lookup(); } } },
    picker.el, field(t('assets.query'), q, t('assets.queryHint')),
    h('div', { class: 'field field-button' }, h('span', { class: 'label-spacer', 'aria-hidden': 'true', text: '\u00a0' }),
      h('button', { type: 'submit', class: 'primary', id: 'asset-lookup', text: t('assets.lookup') })));
  const form = canWrite ? assetForm() : null;
  ctx.main.replaceChildren(
    h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.assets') })),
    h('p', { class: 'muted', text: t('assets.intro') }),
    search, result, form ? form.el : null);

  function syncRoute() { ctx.replace(route(['assets'], { tenant: picker.get(), q: q.value.trim() })); }

  let ctl = null;
  async function lookup() {
    const tenant = picker.get();
    const host = q.value.trim();
    syncRoute();
    clear(result);
    if (picker.none) { result.append(h('p', { class: 'muted', text: t('lib.noTenants') })); return; }
    if (!tenant) { result.append(h('p', { class: 'muted', text: t('lib.pickTenant') })); return; }
    if (!host) return;
    if (ctl) ctl.abort();
    ctl = new AbortController();
    try {
      const a = await api('POST', '/v1/assets/lookup', { json: { tenant, host }, signal: AbortSignal.any([ctl.signal, ctx.signal]) });
      clear(result).append(assetCard(a));
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err instanceof ApiError && err.code === 'not_found') {
        clear(result).append(h('p', { class: 'muted', id: 'asset-none', text: t('assets.notFound', { q: host, tenant }) }));
        if (form) form.suggest(host);
        return;
      }
      clear(result).append(errorBox(err));
    }
  }

  function assetCard(a) {
    const dl = h('dl', { class: 'facts' });
    const fact = (key, v) => dl.append(h('dt', { text: t(key) }), h('dd', {}, v));
    fact('lib.tenant', a.tenant);
    fact('assets.ips', a.ips && a.ips.length ? h('ul', { class: 'chips' }, a.ips.map(ip => h('li', {}, h('code', { text: ip })))) : '—');
    fact('assets.owner', a.owner || '—');
    fact('assets.os', a.os || '—');
    fact('assets.criticality', h('span', { class: 'badge sev-' + a.criticality, text: t('sev.' + a.criticality) }));
    fact('assets.tags', a.tags && a.tags.length ? h('ul', { class: 'chips' }, a.tags.map(x => h('li', {}, h('span', { class: 'badge', text: x })))) : '—');
    fact('lib.updated', fmtTime(a.updated_at));
    return h('section', { class: 'card asset', 'aria-labelledby': 'asset-name-title' },
      h('div', { class: 'page-head' }, h('h2', { id: 'asset-name-title', text: a.name }),
        form ? h('button', { type: 'button', class: 'small', id: 'asset-edit', text: t('assets.edit'), on: { click: () => form.edit(a) } }) : null),
      dl);
  }

  // assetForm adds an asset, or replaces the one with the same name.
  function assetForm() {
    const name = h('input', { type: 'text', id: 'asset-name', autocomplete: 'off', spellcheck: 'false', required: true });
    const ips = h('input', { type: 'text', id: 'asset-ips', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
    const owner = h('input', { type: 'text', id: 'asset-owner', autocomplete: 'off' });
    const os = h('input', { type: 'text', id: 'asset-os', autocomplete: 'off' });
    const crit = select(CRITICALITIES.map(c => [c, t('sev.' + c)]), 'medium', { id: 'asset-criticality' });
    const tags = h('input', { type: 'text', id: 'asset-tags', autocomplete: 'off', spellcheck: 'false' });
    const msg = h('div');
    const el = h('form', { class: 'card asset-form', id: 'asset-form', 'aria-labelledby': 'asset-form-title', on: { submit: async e => {
      e.preventDefault();
      clear(msg);
      const tenant = picker.get();
      if (!tenant) { msg.append(errorBox({ message: t('lib.pickTenant') })); return; }
      const btn = el.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        const a = await api('PUT', '/v1/assets', { json: {
          tenant, name: name.value.trim(), ips: splitList(ips.value), owner: owner.value.trim(), os: os.value.trim(),
          criticality: crit.value, tags: splitTags(tags.value),
        } });
        notice(t('assets.saved', { name: a.name }));
        q.value = a.name;
        syncRoute();
        clear(result).append(assetCard(a));
      } catch (err) {
        msg.append(errorBox(err));
      } finally {
        btn.disabled = false;
      }
    } } },
      h('h2', { id: 'asset-form-title', text: t('assets.add') }),
      h('p', { class: 'muted', text: t('assets.addHint') }),
      h('div', { class: 'row' }, field(t('assets.name'), name), field(t('assets.ips'), ips, t('assets.ipsHint'))),
      h('div', { class: 'row' }, field(t('assets.owner'), owner), field(t('assets.os'), os), field(t('assets.criticality'), crit)),
      field(t('assets.tags'), tags, t('assets.tagsHint')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'asset-save', text: t('assets.save') })),
      msg);
    return {
      el,
      edit(a) {
        name.value = a.name; ips.value = (a.ips || []).join(', '); owner.value = a.owner || ''; os.value = a.os || '';
        crit.value = a.criticality || 'medium'; tags.value = (a.tags || []).join(', ');
        el.scrollIntoView({ block: 'start' });
        owner.focus();
      },
      // suggest starts a new asset from a lookup that found nothing.
      suggest(host) {
        if (name.value || ips.value) return;
        if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':')) ips.value = host; else name.value = host;
      },
    };
  }

  if (q.value.trim()) await lookup();
}
