// The services' words and reads shared by the members' pages (the public
// agenda, my ateliers and appointments, booking an appointment) and the
// console's: a session's time in its site's zone, seats left, a
// registration's state, an appointment's outcome. Pure functions but for
// the loads.
import { formatDate, formatTimeRange } from './format.js';

// sessionWhen: "mardi 9 décembre, 14 h 00 – 16 h 00" in the site's zone.
export function sessionWhen(s, lang, tz) {
  return `${formatDate(s.start, lang, tz)}, ${formatTimeRange(s.start, s.end, lang, tz)}`;
}

// seatsText says what is left of a session: seats, or the waiting list.
export function seatsText(s, t) {
  if (s.status === 'cancelled') {
    return t('servicesapp.session.cancelled');
  }
  if (s.seats_left > 0) {
    return t('servicesapp.seats.left', { n: s.seats_left });
  }
  return t('servicesapp.seats.full', { n: s.waitlisted });
}

// registrationText: "Inscrit·e", or the place on the waiting list.
export function registrationText(r, t) {
  if (r.status === 'waitlisted') {
    return r.waitlist_position ? t('servicesapp.reg.waitlisted.at', { n: r.waitlist_position }) : t('servicesapp.reg.waitlisted');
  }
  return t(`servicesapp.reg.${r.status}`);
}

// atelierPrice says what a seat costs, by the atelier's pricing: "Gratuit",
// the price TTC, the credit it takes, or the plans it is included in.
export function atelierPrice(a, t, formatPrice, lang) {
  switch (a.pricing) {
    case 'credits':
      return t('servicesapp.price.credits', { amount: formatPrice(a.credit_cents, lang) });
    case 'included':
      return t('servicesapp.price.included');
    default:
      return a.price_cents === 0 ? t('servicesapp.free') : t('servicesapp.price.price', { amount: formatPrice(a.price_cents, lang) });
  }
}

// addressText: "1 rue des Ateliers, 69001 Lyon".
export function addressText(addr) {
  if (!addr) {
    return '';
  }
  return [addr.line1, addr.line2, `${addr.postal_code || ''} ${addr.city || ''}`.trim()].filter(Boolean).join(', ');
}

// sitesById: the sites a signed-in person may read, by id.
export async function sitesById(api) {
  const list = await api.get('/v1/sites?limit=200');
  return Object.fromEntries(list.items.map((s) => [s.id, s]));
}

// isoDay: "2026-12-09" of a Date in the browser's own zone (a range's
// bounds for the slots; the API reads them in the site's zone).
export function isoDay(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// wallClock: a site's "14:00" as the reader writes it ("14 h 00" in
// French).
export function wallClock(v, lang) {
  return lang === 'en' ? v : `${Number(v.slice(0, 2))}\u00a0h\u00a0${v.slice(3)}`;
}

// addDays: the date n days after a "YYYY-MM-DD" date, as a date (no
// clock involved: a series' dates are wall-clock dates of the site, so a
// change of time in between moves nothing).
export function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  const u = new Date(Date.UTC(y, m - 1, d + n));
  return u.toISOString().slice(0, 10);
}

// seriesSessions: the sessions of a series, as the site's wall-clock
// times the API reads in the site's zone: count dates every `weeks`
// weeks from first, from start to end ("14:00", "16:00").
export function seriesSessions(first, start, end, count, weeks) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const day = addDays(first, i * 7 * weeks);
    out.push({ start: `${day}T${start}`, end: `${day}T${end}` });
  }
  return out;
}
