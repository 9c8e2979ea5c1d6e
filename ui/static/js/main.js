// The web UI's shell: sign-in, navigation, language switch and the hash
// router. Pages live in their own modules and render into <main>.
import { api, setCSRF, setUnauthorizedHandler, ApiError } from './api.js';
import { t, loadLang, lang, LANGS } from './i18n.js';
import { h, clear, field, errorBox, notice } from './dom.js';
import * as plugins from './plugins.js';
import * as plugin from './plugin.js';
import * as invocations from './invocations.js';
import * as library from './library.js';
import * as admin from './admin.js';
import * as account from './account.js';
import * as filters from './filters.js';
import * as assets from './assets.js';
import { allows } from './library.js';

const main = document.getElementById('main');
let me = null;
let session = null; // the session's expiry; its CSRF token is in api.js
let routeCtl = null;

const routes = [
  [/^$|^plugins$/, (m, c) => plugins.render(c)],
  [/^plugins\/([^/]+)(?:\/([a-z]+))?$/, (m, c) => plugin.render(c, decodeURIComponent(m[1]), m[2] || 'run')],
  [/^invocations$/, (m, c) => invocations.renderList(c)],
  [/^invocations\/([^/]+)$/, (m, c) => invocations.renderOne(c, decodeURIComponent(m[1]))],
  [/^reports$/, (m, c) => library.renderReports(c)],
  [/^reports\/([^/]+)\/([^/]+)$/, (m, c) => library.renderReport(c, decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
  [/^tickets$/, (m, c) => library.renderTickets(c)],
  [/^tickets\/([^/]+)\/([^/]+)$/, (m, c) => library.renderTicket(c, decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
  [/^filters$/, (m, c) => filters.render(c)],
  [/^assets$/, (m, c) => assets.render(c)],
  [/^account$/, (m, c) => account.render(c)],
  [/^audit$/, (m, c) => admin.renderAudit(c)],
  [/^users$/, (m, c) => admin.renderUsers(c)],
];

const navItems = [
  ['plugins', 'nav.plugins', () => true],
  ['invocations', 'nav.invocations', () => true],
  ['reports', 'nav.reports', () => true],
  ['tickets', 'nav.tickets', () => true],
  ['filters', 'nav.filters', () => allows(me, 'filters.read')],
  ['assets', 'nav.assets', () => allows(me, 'assets.read')],
  ['audit', 'nav.audit', () => me && me.role === 'admin'],
  ['users', 'nav.users', () => me && me.role === 'admin'],
];

function currentPath() {
  const hash = location.hash.startsWith('#/') ? location.hash.slice(2) : '';
  const [path, qs] = hash.split('?');
  return { path, params: new URLSearchParams(qs || '') };
}

function renderNav() {
  const nav = clear(document.getElementById('nav'));
  if (!me) return;
  const { path } = currentPath();
  const top = path.split('/')[0] || 'plugins';
  const ul = h('ul');
  for (const [id, key, show] of navItems) {
    if (!show()) continue;
    ul.append(h('li', {}, h('a', { href: '#/' + id, text: t(key), 'aria-current': top === id ? 'page' : false })));
  }
  nav.append(ul);
  const link = document.getElementById('account-link');
  if (link) {
    if (top === 'account') link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function renderAccount() {
  const box = clear(document.getElementById('account'));
  const langSel = h('select', { id: 'lang', 'aria-label': t('nav.language'), on: { change: async e => {
    await loadLang(e.target.value);
    renderChrome();
    if (me) route(true); else showSignIn();
  } } });
  for (const [l, name] of LANGS) langSel.append(h('option', { value: l, text: name, selected: l === lang() }));
  box.append(langSel);
  if (me) {
    box.append(
      h('span', { class: 'whoami' },
        h('a', { href: '#/account', id: 'account-link', 'aria-current': currentPath().path === 'account' ? 'page' : false },
          h('span', { class: 'user', text: me.name }), h('span', { class: 'sr-only', text: ' — ' + t('nav.account') })),
        ' ', h('span', { class: 'badge role', text: t('role.' + me.role) })),
      h('button', { type: 'button', id: 'signout', text: t('nav.signOut'), on: { click: signOut } }));
  }
}

function renderChrome() {
  document.getElementById('skip').textContent = t('nav.skip');
  document.querySelector('.brand').setAttribute('aria-label', t('nav.home'));
  renderNav();
  renderAccount();
}

function signedIn(s) {
  me = s.user;
  session = { expires_at: s.expires_at };
  setCSRF(s.csrf_token);
  renderChrome();
}

function signedOut() {
  me = null;
  session = null;
  setCSRF('');
  renderChrome();
}

// endSession forgets a session lhkd has ended (the user renewed the token it
// was opened with) and leaves the page as it is: the new token is on it. A
// request with the dead cookie gets 401, and lhkd clears the cookie.
function endSession() {
  signedOut();
  api('DELETE', '/v1/session', { signIn: true }).catch(() => {});
}

// showSignIn asks for a token and exchanges it for a session. The token goes
// in the Authorization header of one request and is dropped.
function showSignIn(message) {
  signedOut();
  document.title = t('signin.title') + ' — lhk';
  // The input has no name: even a form submitted without this script sends
  // nothing, so the token can never end up in a URL.
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', spellcheck: 'false', required: true });
  const status = h('div', { class: 'signin-status' });
  if (message) status.append(h('p', { class: 'notice notice-info', role: 'status', text: message }));
  const form = h('form', { class: 'signin card', method: 'post', action: '#', on: { submit: async e => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    clear(status);
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      const s = await api('POST', '/v1/session', { headers: { Authorization: 'Bearer ' + token }, signIn: true });
      input.value = '';
      signedIn(s);
      route(true);
    } catch (err) {
      status.append(errorBox(err.status === 401 ? { message: t('signin.bad') } : err));
      input.focus();
    } finally {
      btn.disabled = false;
    }
  } } },
    h('h1', { text: t('signin.title') }),
    h('p', { class: 'muted', text: t('signin.intro') }),
    field(t('signin.token'), input, t('signin.hint')),
    h('button', { type: 'submit', class: 'primary', text: t('signin.submit') }),
    status);
  clear(main).append(form);
  input.focus();
}

async function signOut() {
  try {
    await api('DELETE', '/v1/session');
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) notice(err.message, 'error');
  }
  if (routeCtl) routeCtl.abort();
  showSignIn(t('signin.signedOut'));
}

// route renders the page the hash names. A page gets a context with the user,
// the query parameters and a signal aborted when the user moves on.
async function route(initial) {
  if (!me) return;
  if (location.hash && !location.hash.startsWith('#/')) {
    if (!initial) return; // an in-page anchor such as the skip link
    history.replaceState(null, '', '#/');
  }
  const { path, params } = currentPath();
  if (routeCtl) routeCtl.abort();
  routeCtl = new AbortController();
  const ctx = {
    me, session, params, signal: routeCtl.signal, main,
    go: (hash) => { if (location.hash === hash) route(); else location.hash = hash; },
    // replace changes the query of the current page without a new history entry.
    replace: (hash) => { history.replaceState(null, '', hash); },
    title: (s) => { document.title = s + ' — lhk'; },
    endSession,
    // signIn shows the sign-in form with a message.
    signIn: (message) => showSignIn(message),
  };
  renderNav();
  for (const [re, render] of routes) {
    const m = path.match(re);
    if (!m) continue;
    try {
      await render(m, ctx);
    } catch (err) {
      if (err.name === 'AbortError' || ctx.signal.aborted) return;
      if (err instanceof ApiError && err.status === 401) return;
      clear(main).append(h('h1', { text: t('err.title') }), errorBox(err));
    }
    return;
  }
  clear(main).append(h('h1', { text: t('err.notFound') }), h('p', {}, h('a', { href: '#/', text: t('nav.plugins') })));
}

setUnauthorizedHandler(() => showSignIn(t('signin.expired')));

// The skip link moves focus to the content without changing the route.
document.getElementById('skip').addEventListener('click', e => {
  e.preventDefault();
  main.focus();
});

async function boot() {
  try {
    await loadLang();
  } catch {
    /* the keys show; better than nothing */
  }
  renderChrome();
  window.addEventListener('hashchange', () => {
    route();
    main.focus({ preventScroll: true });
  });
  try {
    const s = await api('GET', '/v1/session', { signIn: true });
    signedIn(s);
    route(true);
  } catch {
    showSignIn();
  }
}

boot();
