// Messages in English and Japanese. The dictionaries are i18n/en.json and
// i18n/ja.json (a test checks both hold the same keys and every key the code
// uses); words follow docs/glossary.md. The choice is remembered in
// localStorage and set as the page's lang attribute.
export const LANGS = [['en', 'English'], ['ja', '日本語']];
const KEY = 'lhk.lang';

let current = 'en';
let dict = {};
let fallback = {};

export function lang() { return current; }

function initial() {
  const saved = localStorage.getItem(KEY);
  if (saved && LANGS.some(([l]) => l === saved)) return saved;
  return (navigator.language || '').toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

async function fetchDict(l) {
  const res = await fetch('i18n/' + l + '.json', { cache: 'no-cache' });
  if (!res.ok) throw new Error('load ' + l + ' messages: ' + res.status);
  return res.json();
}

// loadLang loads the dictionaries for l (or the remembered language).
export async function loadLang(l) {
  const want = l || initial();
  if (Object.keys(fallback).length === 0) fallback = await fetchDict('en');
  dict = want === 'en' ? fallback : await fetchDict(want);
  current = want;
  localStorage.setItem(KEY, want);
  document.documentElement.lang = want;
}

// t returns the message for key with {name} placeholders filled from params.
export function t(key, params) {
  let s = dict[key] ?? fallback[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}
