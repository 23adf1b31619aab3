// What the console's campaigns and calendars pages share: the reasons of
// an import's bad lines in the reader's words, amounts typed in euros, a
// progress bar said in words, and a field whose text is copied.
import { html, useState } from './ui.js';
import { useApp } from './context.js';
import { formatPrice } from './format.js';
import './console-words.js';

// The import's reasons come from the API in English only: the known ones
// are said again in the console's words, with their value; any other is
// shown as it came.
const reasons = [
  [/^"(.*)" is not an email address$/, 'consolec.reason.email'],
  [/^the amount is empty$/, 'consolec.reason.amount_empty'],
  [/^the amount "(.*)" is negative$/, 'consolec.reason.amount_negative'],
  [/^the amount "(.*)" is not a number of euros/, 'consolec.reason.amount_nan'],
  [/^the amount must be positive$/, 'consolec.reason.amount_zero'],
  [/^the amount is above (\d+) €$/, 'consolec.reason.amount_max'],
  [/^the date is empty$/, 'consolec.reason.date_empty'],
  [/^the date "(.*)" is not a date/, 'consolec.reason.date_bad'],
  [/^the contribution id is empty$/, 'consolec.reason.id_empty'],
  [/^the contribution id is longer/, 'consolec.reason.id_long'],
  [/^the same contribution id as line (\d+)$/, 'consolec.reason.id_dup'],
  [/^status "(.*)" is not a paid contribution$/, 'consolec.reason.unpaid'],
  [/^names are at most/, 'consolec.reason.name_long'],
];

export function reasonWords(reason, t) {
  for (const [re, key] of reasons) {
    const m = re.exec(reason || '');
    if (m) {
      return t(key, { value: m[1] || '' });
    }
  }
  return reason || '';
}

// columnWords: a CSV column's name in the reader's words.
export function columnWords(column, t) {
  const known = ['id', 'email', 'amount', 'date', 'name', 'public_name', 'status'];
  return known.includes(column) ? t(`consolec.column.${column}`) : (column || '—');
}

// toCents reads "25", "25,50" or "25.5" (euros) as cents; NaN otherwise.
export function toCents(text) {
  const s = String(text).trim().replace(/\s/g, '').replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(s)) {
    return NaN;
  }
  return Math.round(Number(s) * 100);
}

// eurosText: cents as the euros a form field shows ("25,50").
export function eurosText(cents, lang) {
  const s = (cents / 100).toFixed(2);
  return lang === 'en' ? s : s.replace('.', ',');
}

// Progress is a campaign's raised amount against its goal: the words,
// and a bar that says them too.
export function Progress({ campaign: c, id }) {
  const { t, lang } = useApp();
  const percent = c.goal_cents > 0 ? Math.floor((c.raised_cents * 100) / c.goal_cents) : 0;
  const words = t('consolec.progress', {
    raised: formatPrice(c.raised_cents, lang), goal: formatPrice(c.goal_cents, lang), percent, backers: c.backers,
  });
  return html`
    <div class="wallet-progress">
      <p id=${id}>${words}</p>
      <progress class="wallet-progress__bar" max=${c.goal_cents} value=${Math.min(c.raised_cents, c.goal_cents)}
        aria-labelledby=${id} aria-valuetext=${words}></progress>
    </div>`;
}

// CopyField is a read-only text (a URL, a secret) with a button that
// copies it, saying so in the live region.
export function CopyField({ id, label, value, hint }) {
  const { t, announce } = useApp();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      const input = document.getElementById(id);
      input.select();
      document.execCommand('copy');
    }
    setCopied(true);
    announce(t('consolec.copied'));
  };
  return html`
    <div class="field consolec-copy">
      <label for=${id}>${label}</label>
      ${hint && html`<p class="hint" id="${id}-hint">${hint}</p>`}
      <div class="consolec-copy__row">
        <input id=${id} readonly value=${value} aria-describedby=${hint ? `${id}-hint` : undefined} onFocus=${(e) => e.target.select()} />
        <button class="button button--secondary" type="button" onClick=${copy}>${copied ? t('consolec.copied_short') : t('consolec.copy')}</button>
      </div>
    </div>`;
}
