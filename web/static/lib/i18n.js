// The app's words, French first: one catalogue per language
// (../i18n/fr.js, ../i18n/en.js, the same keys), and the choice of
// language: the member's once signed in, else the one chosen on this
// device, else the browser's; French when none of them is English.
import fr from '../i18n/fr.js';
import en from '../i18n/en.js';

export const catalogues = { fr, en };
export const languages = ['fr', 'en'];

// pickLanguage is the language to speak: memberLanguage (the account's),
// else chosen (this device's last choice), else the first of the
// browser's preferences that is French or English.
export function pickLanguage(memberLanguage, chosen, browserLanguages = []) {
  for (const l of [memberLanguage, chosen]) {
    if (languages.includes(l)) {
      return l;
    }
  }
  for (const tag of browserLanguages) {
    const l = String(tag).toLowerCase().split('-')[0];
    if (languages.includes(l)) {
      return l;
    }
  }
  return 'fr';
}

// translator returns t(key, params) for lang: a catalogue entry is a
// string, or a function of params. A key missing from lang's catalogue
// says the French text rather than nothing; missing from both, the key.
export function translator(lang) {
  const cat = catalogues[lang] || fr;
  return (key, params = {}) => {
    const m = key in cat ? cat[key] : fr[key];
    if (m === undefined) {
      return key;
    }
    return typeof m === 'function' ? m(params) : m;
  };
}

const storageKey = 'relais.language';

// chosenLanguage is this device's last choice (not a secret: the language).
export function chosenLanguage() {
  try {
    return localStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

export function rememberLanguage(lang) {
  try {
    localStorage.setItem(storageKey, lang);
  } catch {
    // Private browsing may refuse storage; the choice lasts this visit.
  }
}
