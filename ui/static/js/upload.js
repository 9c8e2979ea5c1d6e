// Uploading a .wasm module: drop it on the zone or pick it with the file
// input (keyboard users). The module goes as the raw request body.
import { request, enc } from './api.js';
import { t } from './i18n.js';
import { h, clear, errorBox, notice, fmtBytes } from './dom.js';

// uploadZone returns the drop zone. opts.name() gives the plugin's name,
// opts.suggest(file) may fill it from the file's name, opts.done(answer)
// runs after a successful upload.
export function uploadZone(opts) {
  const input = h('input', { type: 'file', id: 'wasm-file', accept: '.wasm,application/wasm' });
  const status = h('div', { class: 'upload-status' });
  const zone = h('div', { class: 'drop', id: 'drop-zone' },
    h('p', { class: 'drop-text', text: t('upload.drop') }),
    h('label', { for: input.id, class: 'drop-label', text: t('upload.choose') }), ' ', input,
    status);

  async function send(file) {
    clear(status);
    if (opts.suggest) opts.suggest(file);
    const name = opts.name();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) {
      status.append(errorBox({ message: t('upload.badName') }));
      return;
    }
    if (!/\.wasm$/i.test(file.name) && file.type !== 'application/wasm') {
      status.append(errorBox({ message: t('upload.notWasm', { file: file.name }) }));
      return;
    }
    status.append(h('p', { class: 'muted', text: t('upload.sending', { file: file.name, size: fmtBytes(file.size) }) }));
    zone.setAttribute('aria-busy', 'true');
    try {
      const res = await request('POST', '/v1/plugins/' + enc(name) + '/versions', { body: file, headers: { 'Content-Type': 'application/wasm' } });
      const a = await res.json();
      clear(status).append(result(a));
      notice(t('upload.done', { plugin: a.plugin, version: a.version }));
      input.value = '';
      if (opts.done) opts.done(a);
    } catch (err) {
      clear(status).append(errorBox(err));
    } finally {
      zone.removeAttribute('aria-busy');
    }
  }

  input.addEventListener('change', () => { if (input.files.length) send(input.files[0]); });
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', e => {
    e.preventDefault();
    zone.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) send(f);
  });
  return zone;
}

// result shows what the daemon found in the module.
function result(a) {
  return h('div', { class: 'upload-result', role: 'status' },
    h('p', { text: t('upload.done', { plugin: a.plugin, version: a.version }) }),
    a.capabilities_required.length
      ? h('p', { text: t('upload.requires', { caps: a.capabilities_required.join(', ') }) }) : null,
    a.capabilities_missing.length
      ? h('p', { class: 'warn', text: t('grant.missing', { caps: a.capabilities_missing.join(', ') }) }) : null);
}
