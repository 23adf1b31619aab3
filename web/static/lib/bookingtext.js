// What a quote, a refusal or a refund means, in the member's words: the
// API's codes become the catalogue's sentences (book.*), never shown raw.
import { formatDate, formatTime, formatPrice } from './format.js';
import { ApiError } from './api.js';
import { errorText } from './forms.js';

// refusalText: why a booking (or a move, a cancellation) is refused, from
// the problem document the API answered; its own detail, already in the
// member's language, when the catalogue has no sentence for the code.
export function refusalText(problem, t) {
  if (!problem) {
    return '';
  }
  const key = `book.refusal.${problem.code}`;
  const s = t(key);
  if (s !== key) {
    return s;
  }
  return problem.detail || t('error.unexpected');
}

// failureText: what to say of a failed call, the refusal's sentence when
// the API named a rule.
export function failureText(err, t) {
  if (err instanceof ApiError && err.code) {
    return refusalText({ code: err.code, detail: err.detail }, t);
  }
  return errorText(err, t);
}

// priceText: what a booking takes, in a sentence or two.
export function priceText(price, t, lang) {
  if (!price) {
    return '';
  }
  const parts = [];
  if (price.covered_by === 'plan') {
    return t('book.price.plan');
  }
  if (price.covered_by === 'free') {
    return t('book.price.free');
  }
  if (price.included_minutes_used > 0) {
    parts.push(t('book.price.included', { minutes: price.included_minutes_used, left: price.included_minutes_left }));
  }
  if (price.credit_minutes_used > 0) {
    parts.push(t('book.price.credit_minutes', { minutes: price.credit_minutes_used }));
  }
  if (price.credit_cents_used > 0) {
    parts.push(t('book.price.credit_cents', { amount: formatPrice(price.credit_cents_used, lang) }));
  }
  if (price.amount_cents > 0) {
    parts.push(t('book.price.payment', { amount: formatPrice(price.amount_cents, lang) }));
  }
  if (parts.length === 0) {
    parts.push(t('book.price.free'));
  }
  return parts.join(' ');
}

// when: "mardi 9 décembre à 8 h 00", in the site's zone.
export function when(instant, t, lang, timeZone) {
  return t('book.when', { date: formatDate(instant, lang, timeZone), time: formatTime(instant, lang, timeZone) });
}

// refundText: what cancelling now gives back and keeps, from the
// cancellation's quote.
export function refundText(q, t, lang, timeZone) {
  if (!q.allowed) {
    return [refusalText(q.refusal, t)];
  }
  const out = [q.late ? t('book.cancel.late', { when: when(q.deadline, t, lang, timeZone) })
    : t('book.cancel.in_time', { when: when(q.deadline, t, lang, timeZone) })];
  const r = q.refund || {};
  if (r.included_minutes_returned > 0) {
    out.push(t('book.cancel.minutes', { minutes: r.included_minutes_returned }));
  }
  if (r.charge_voided_cents > 0) {
    out.push(t('book.cancel.voided', { amount: formatPrice(r.charge_voided_cents, lang) }));
  }
  if (r.charge_kept_cents > 0) {
    out.push(t('book.cancel.kept', { amount: formatPrice(r.charge_kept_cents, lang) }));
  }
  if (q.late && r.credit_returned_percent < 100) {
    out.push(t('book.cancel.credit', { percent: r.credit_returned_percent }));
  }
  if (out.length === 1 && !q.late) {
    out.push(t('book.cancel.nothing'));
  }
  return out;
}
