// Dates, hours and prices as people read them: in the member's language,
// and always in the site's time zone, whatever the phone's. Pure
// functions of their arguments (the browser tests check them, e2e/).

const locales = { fr: 'fr-FR', en: 'en-GB' };

function locale(lang) {
  return locales[lang] || locales.fr;
}

// dateFormat: the Intl.DateTimeFormat of these options, built once. A
// formatter costs far more to build than to use, and a planning of 500
// resources formats thousands of times (BENCHMARKS.md, "The planning of
// 500 resources").
const formats = new Map();

export function dateFormat(loc, opts) {
  const key = `${loc} ${JSON.stringify(opts)}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(loc, opts);
    formats.set(key, f);
  }
  return f;
}

// formatDate: "mardi 9 décembre" (the year when it is not the current one
// in that zone: "mardi 9 décembre 2025").
export function formatDate(date, lang, timeZone, now = new Date()) {
  const d = new Date(date);
  const opts = { weekday: 'long', day: 'numeric', month: 'long', timeZone };
  if (yearIn(d, timeZone) !== yearIn(new Date(now), timeZone)) {
    opts.year = 'numeric';
  }
  return dateFormat(locale(lang), opts).format(d);
}

function yearIn(d, timeZone) {
  return dateFormat('en', { year: 'numeric', timeZone }).format(d);
}

// formatTime: "14 h 30" in French (the French typographic convention,
// with no-break spaces), "14:30" in English.
export function formatTime(date, lang, timeZone) {
  const parts = dateFormat(locale(lang), {
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone,
  }).formatToParts(new Date(date));
  const hour = parts.find((p) => p.type === 'hour').value;
  const minute = parts.find((p) => p.type === 'minute').value;
  if (lang === 'en') {
    return `${hour}:${minute}`;
  }
  return `${Number(hour)}\u00a0h\u00a0${minute}`;
}

// formatTimeRange: "14 h 30 – 16 h 00", the end's date when it is another
// day in that zone.
export function formatTimeRange(start, end, lang, timeZone) {
  let to = formatTime(end, lang, timeZone);
  if (dayKey(start, timeZone) !== dayKey(end, timeZone)) {
    to = `${formatDate(end, lang, timeZone, new Date(start))} ${to}`;
  }
  return `${formatTime(start, lang, timeZone)}\u00a0– ${to}`;
}

// dayKey: the date in that zone, "2026-12-09", to group a list by day.
export function dayKey(date, timeZone) {
  return dateFormat('en-CA', {
    year: 'numeric', month: '2-digit', day: '2-digit', timeZone,
  }).format(new Date(date));
}

// formatPrice: integer cents as "25,00 €" in French (a no-break space
// before the sign, thin no-break spaces between thousands: "1 250,00 €"),
// "€25.00" in English.
export function formatPrice(cents, lang, currency = 'EUR') {
  const s = new Intl.NumberFormat(locale(lang), { style: 'currency', currency }).format(cents / 100);
  if (lang === 'en') {
    return s;
  }
  // ICU versions differ on the space before the sign (U+00A0 or U+202F);
  // French typography puts a no-break space there.
  return s.replace(/[\u00a0\u202f ](\D+)$/, '\u00a0$1');
}
