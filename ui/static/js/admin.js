// Admin pages: the audit log, and users with their roles, ceilings and tokens.
// Tokens are shown once, right after they are made, and never again; the
// account page (account.js) renews the signed-in user's own token with the
// same code.
import { api, query, enc } from './api.js';
import { t } from './i18n.js';
import { h, clear, field, select, fmtTime, errorBox, notice, debounce, copyButton, confirmButton } from './dom.js';
import { CAPABILITIES } from './plugin.js';

const ROLES = ['admin', 'analyst', 'viewer'];

// tokenCard shows a token made just now, once, with a copy button.
export function tokenCard(message, token) {
  return h('div', { class: 'card secret' },
    h('p', { text: message }), h('code', { class: 'token', text: token }), ' ', copyButton(token));
}

// renewToken asks lhkd for a new token of user (POST /v1/users/{name}/token):
// the old token stops working at once, and so does every session opened
// with it.
export function renewToken(user) {
  return api('POST', '/v1/users/' + enc(user) + '/token');
}

// ownTokenRenewed shows the signed-in user their new token, once. Renewing
// ended this session (lhkd ends every session of the old token), so the page
// signs out first, keeps nothing but this card, and leads to the sign-in form.
export function ownTokenRenewed(ctx, r) {
  ctx.endSession();
  const card = h('section', { class: 'card secret', id: 'new-token', tabindex: -1, 'aria-labelledby': 'new-token-title' },
    h('h2', { id: 'new-token-title', text: t('account.renewed') }),
    h('p', { text: t('account.tokenOnce') }),
    h('p', {}, h('code', { class: 'token', text: r.token }), ' ', copyButton(r.token)),
    h('p', { text: t('account.replaced') }),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'signin-new', text: t('account.signInNew'),
      on: { click: () => ctx.signIn(t('account.signInWithNew')) } })));
  ctx.main.replaceChildren(h('div', { class: 'page-head' }, h('h1', { text: t('nav.account') })), card);
  card.focus();
}

function adminOnly(ctx) {
  if (ctx.me.role === 'admin') return false;
  ctx.main.replaceChildren(h('h1', { tabindex: -1, text: t('err.title') }), errorBox({ message: t('admin.only') }));
  return true;
}

export async function renderAudit(ctx) {
  ctx.title(t('nav.audit'));
  if (adminOnly(ctx)) return;
  const actor = h('input', { type: 'text', id: 'audit-actor', value: ctx.params.get('actor') || '', autocomplete: 'off', spellcheck: 'false' });
  const target = h('input', { type: 'text', id: 'audit-target', value: ctx.params.get('target') || '', autocomplete: 'off', spellcheck: 'false' });
  const results = h('div', { class: 'results' });
  ctx.main.replaceChildren(h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.audit') })),
    h('div', { class: 'toolbar' }, field(t('audit.actor'), actor), field(t('audit.target'), target, t('audit.targetHint'))), results);
  let tbody = null, more = null, ctl = null;
  async function load(before) {
    if (!before) {
      if (ctl) ctl.abort();
      ctl = new AbortController();
      ctx.replace('#/audit' + (actor.value || target.value ? '?' + new URLSearchParams({ actor: actor.value.trim(), target: target.value.trim() }) : ''));
    }
    let data;
    try {
      data = await api('GET', query('/v1/audit', { actor: actor.value.trim(), target: target.value.trim(), before, limit: 100 }), { signal: AbortSignal.any([ctl.signal, ctx.signal]) });
    } catch (err) {
      if (err.name !== 'AbortError') clear(results).append(errorBox(err));
      return;
    }
    if (!before) {
      clear(results);
      if (data.entries.length === 0) { results.append(h('p', { class: 'muted', text: t('audit.none') })); return; }
      const th = (k) => h('th', { scope: 'col', text: t(k) });
      tbody = h('tbody');
      more = h('button', { type: 'button', text: t('hist.older'), on: { click: () => load(more.dataset.before) } });
      results.append(h('table', { class: 'audit' }, h('thead', {}, h('tr', {}, th('inv.time'), th('audit.actor'), th('audit.action'), th('audit.target'), th('audit.detail'))), tbody),
        h('div', { class: 'pager' }, more));
    }
    for (const e of data.entries) {
      tbody.append(h('tr', {},
        h('td', { class: 'nowrap', text: fmtTime(e.time) }), h('td', { text: e.actor }), h('td', {}, h('code', { text: e.action })),
        h('td', { text: e.target }), h('td', {}, h('code', { class: 'detail', text: e.detail === '{}' ? '' : e.detail }))));
    }
    more.dataset.before = data.entries.length ? data.entries[data.entries.length - 1].id : '';
    more.hidden = data.entries.length < 100;
  }
  const reload = debounce(() => load(), 300);
  actor.addEventListener('input', reload);
  target.addEventListener('input', reload);
  await load();
}

export async function renderUsers(ctx) {
  ctx.title(t('nav.users'));
  if (adminOnly(ctx)) return;
  const data = await api('GET', '/v1/users', { signal: ctx.signal });
  const secret = h('div', { id: 'new-token', 'aria-live': 'polite' });
  const showToken = (r) => clear(secret).append(tokenCard(t('users.tokenOnce', { user: r.name }), r.token));

  const name = h('input', { type: 'text', id: 'user-name', autocomplete: 'off', spellcheck: 'false', required: true, pattern: '[a-z0-9][a-z0-9._\\-]{0,62}' });
  const role = select(ROLES.map(r => [r, t('role.' + r)]), 'analyst', { id: 'user-role' });
  const msg = h('div');
  const create = h('form', { class: 'card user-form', on: { submit: async e => {
    e.preventDefault();
    clear(msg);
    try {
      const r = await api('POST', '/v1/users', { json: { name: name.value.trim(), role: role.value } });
      notice(t('users.created', { user: r.name }));
      name.value = '';
      await redraw();
      showToken(r);
    } catch (err) { msg.append(errorBox(err)); }
  } } },
    h('h2', { text: t('users.create') }),
    h('div', { class: 'row' }, field(t('users.name'), name), field(t('users.role'), role)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: t('users.createButton') })),
    msg);

  const list = h('div');
  async function redraw() {
    const d = await api('GET', '/v1/users');
    clear(list).append(usersTable(d.users));
  }
  function usersTable(users) {
    const th = (k) => h('th', { scope: 'col', text: t(k) });
    return h('table', { class: 'users' },
      h('caption', { class: 'sr-only', text: t('nav.users') }),
      h('thead', {}, h('tr', {}, th('users.name'), th('users.role'), th('users.ceiling'), th('lib.created'), h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: t('common.actions') })))),
      h('tbody', {}, users.map(u => userRow(u))));
  }
  function userRow(u) {
    const roleSel = select(ROLES.map(r => [r, t('role.' + r)]), u.role, { 'aria-label': t('users.roleOf', { user: u.name }) });
    const caps = h('input', { type: 'text', value: (u.ceiling.capabilities || []).join(', '), 'aria-label': t('users.capsOf', { user: u.name }), spellcheck: 'false', list: 'cap-list' });
    const tenants = h('input', { type: 'text', value: (u.ceiling.tenants || []).join(', '), 'aria-label': t('users.tenantsOf', { user: u.name }), spellcheck: 'false' });
    const rowMsg = h('div');
    const splitList = (s) => s.split(/[\s,]+/).filter(Boolean);
    const save = h('button', { type: 'button', class: 'small', text: t('users.save'), on: { click: async () => {
      clear(rowMsg);
      try {
        await api('PATCH', '/v1/users/' + enc(u.name), { json: { role: roleSel.value, ceiling: { capabilities: splitList(caps.value), tenants: splitList(tenants.value) } } });
        notice(t('users.saved', { user: u.name }));
      } catch (err) { rowMsg.append(errorBox(err)); }
    } } });
    const renew = confirmButton(t('users.newToken'), t('users.newTokenConfirm', { user: u.name }), async () => {
      try {
        const r = await renewToken(u.name);
        if (r.name === ctx.me.name) { ownTokenRenewed(ctx, r); return; }
        showToken(r);
        secret.scrollIntoView({ block: 'nearest' });
      } catch (err) { rowMsg.append(errorBox(err)); }
    }, 'small');
    return h('tr', {},
      h('td', {}, h('strong', { text: u.name })),
      h('td', {}, roleSel),
      h('td', { class: 'ceiling' }, h('label', {}, h('span', { class: 'mini', text: t('grant.capabilities') }), caps),
        h('label', {}, h('span', { class: 'mini', text: t('grant.tenants') }), tenants)),
      h('td', { class: 'nowrap', text: fmtTime(u.created_at) }),
      h('td', { class: 'nowrap' }, save, ' ', renew, rowMsg));
  }
  list.append(usersTable(data.users));
  ctx.main.replaceChildren(h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.users') })),
    h('datalist', { id: 'cap-list' }, CAPABILITIES.map(c => h('option', { value: c }))),
    secret, create, h('h2', { text: t('users.all') }), list);
}
