// The account page: who the signed-in user is (name, role, ceiling, session)
// and "Renew my token", which every user may do for themself
// (POST /v1/users/{name}/token). The new token is shown once; renewing ends
// this session, so the page then leads to the sign-in form.
import { t } from './i18n.js';
import { h, fmtTime, errorBox, confirmButton } from './dom.js';
import { renewToken, ownTokenRenewed } from './admin.js';

// chips shows a list as code badges, or a dash when it is empty.
function chips(list) {
  if (!list || list.length === 0) return h('span', { class: 'muted', text: t('account.none') });
  return h('ul', { class: 'chips' }, list.map(x => h('li', {}, h('code', { text: x }))));
}

export async function render(ctx) {
  const me = ctx.me;
  ctx.title(t('nav.account'));
  const admin = me.role === 'admin';
  const tenants = me.ceiling.tenants || [];
  const dl = h('dl', { class: 'facts wide', id: 'account-facts' });
  const fact = (key, id, v) => dl.append(h('dt', { text: t(key) }), h('dd', { id }, v));
  fact('users.name', 'account-name', h('strong', { text: me.name }));
  fact('users.role', 'account-role', h('span', { class: 'badge', text: t('role.' + me.role) }));
  fact('grant.capabilities', 'account-caps', admin ? h('span', { text: t('account.allCaps') }) : chips(me.ceiling.capabilities));
  fact('grant.tenants', 'account-tenants', admin || tenants.includes('*') ? h('span', { text: t('account.allTenants') }) : chips(tenants));
  if (me.role === 'viewer') dl.append(h('dt', {}), h('dd', { class: 'muted', text: t('account.viewerNote') }));
  if (me.created_at) fact('account.since', 'account-since', fmtTime(me.created_at));
  if (ctx.session && ctx.session.expires_at) fact('account.sessionEnds', 'account-session', fmtTime(ctx.session.expires_at));

  const msg = h('div');
  const renew = confirmButton(t('account.renew'), t('account.renewConfirm'), async () => {
    msg.replaceChildren();
    try {
      ownTokenRenewed(ctx, await renewToken(me.name));
    } catch (err) { msg.append(errorBox(err)); }
  });
  ctx.main.replaceChildren(
    h('div', { class: 'page-head' }, h('h1', { tabindex: -1, text: t('nav.account') })),
    h('p', { class: 'muted', text: t('account.intro') }),
    dl,
    h('section', { class: 'card', 'aria-labelledby': 'token-title' },
      h('h2', { id: 'token-title', text: t('account.token') }),
      h('p', { text: t('account.tokenHint') }),
      h('div', { class: 'actions', id: 'renew' }, renew),
      msg));
}
