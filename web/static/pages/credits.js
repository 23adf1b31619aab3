// Credits: the member's balances (money, and hours of a kind of resource),
// each lot with where it is usable and when it expires, the movements,
// the statement to download, and a gift to another member (confirmed
// first; a refusal said in words).
import { html, useState, useRef, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice } from '../lib/format.js';
import { ApiError } from '../lib/api.js';
import {
  loadSites, zoneOf, useLoad, Problem, walletError, WalletNav, parisZone, day, minutesText, DownloadLink,
} from '../lib/wallet.js';

// amountText: money in euros, hour credit in hours of its kind.
export function amountText(unit, kind, amount, t, lang) {
  if (unit === 'cents') {
    return formatPrice(amount, lang);
  }
  return t('wallet.credits.hours', { time: minutesText(Math.abs(amount)), kind: t(`wallet.kind.${kind}`), sign: amount < 0 ? '−' : '' });
}

// parseEuros reads "10", "10,50" or "10.5" as cents; NaN otherwise.
export function parseEuros(s) {
  const m = String(s).trim().replace(/\s/g, '').match(/^(\d+)(?:[.,](\d{1,2}))?$/);
  if (!m) {
    return NaN;
  }
  return Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0'));
}

async function loadCredits(api) {
  const [credits, sites] = await Promise.all([api.get('/v1/me/credits'), loadSites(api)]);
  return { ...credits, sites };
}

function Balances({ data }) {
  const { t, lang } = useApp();
  if (data.totals.length === 0) {
    return html`<p class="empty">${t('wallet.credits.none')}</p>`;
  }
  return html`
    <ul class="wallet-balances">
      ${data.totals.map((b) => html`
        <li class="card" key="${b.unit}-${b.resource_kind}">
          <p class="wallet-balance">${amountText(b.unit, b.resource_kind, b.available, t, lang)}</p>
          <p>${b.unit === 'cents' ? t('wallet.credits.money') : t('wallet.credits.time')}</p>
          ${b.pending > 0 && html`<p class="hint">${t('wallet.credits.pending', { amount: amountText(b.unit, b.resource_kind, b.pending, t, lang) })}</p>`}
        </li>`)}
    </ul>
    <h3>${t('wallet.credits.lots')}</h3>
    <ul class="wallet-rows">
      ${data.lots.map((l) => html`
        <li class="wallet-row" key=${l.lot_id}>
          <p class="wallet-row__main"><strong>${amountText(l.unit, l.resource_kind, l.available + l.pending, t, lang)}</strong></p>
          <p>${t(`wallet.origin.${l.origin}`)} · ${l.site_id ? (data.sites[l.site_id] || {}).name || '' : t('wallet.credits.everywhere')}</p>
          <p>${l.expires_at
            ? t('wallet.credits.expires', { date: day(l.expires_at, lang, zoneOf(data.sites, l.site_id)) })
            : t('wallet.credits.no_expiry')}</p>
        </li>`)}
    </ul>`;
}

// Gift: to whom, which credit, how much; then a confirmation saying it
// exactly; then the API's answer.
function Gift({ data, onGiven }) {
  const { t, lang, api, announce } = useApp();
  const spendable = data.totals.filter((b) => b.available > 0);
  const [email, setEmail] = useState('');
  const [which, setWhich] = useState(spendable.length ? `${spendable[0].unit}:${spendable[0].resource_kind || ''}` : '');
  const [amount, setAmount] = useState('');
  const [confirm, setConfirm] = useState(null);
  const [state, setState] = useState({ busy: false, error: null, done: '' });
  const confirmRef = useRef(null);
  useEffect(() => {
    if (confirm && confirmRef.current) {
      confirmRef.current.focus();
    }
  }, [confirm]);
  if (spendable.length === 0) {
    return html`<p>${t('wallet.gift.nothing')}</p>`;
  }
  const [unit, kind] = which.split(':');
  const check = (e) => {
    e.preventDefault();
    const n = unit === 'cents' ? parseEuros(amount) : Number(amount);
    const fields = {};
    if (!email.includes('@')) {
      fields.to_email = t('wallet.gift.bad_email');
    }
    if (!Number.isInteger(n) || n <= 0) {
      fields.amount = t(unit === 'cents' ? 'wallet.gift.bad_euros' : 'wallet.gift.bad_minutes');
    }
    if (Object.keys(fields).length > 0) {
      const error = new ApiError(422, { detail: t('wallet.gift.check') });
      error.fields = fields;
      setState({ busy: false, error, done: '' });
      return;
    }
    setState({ busy: false, error: null, done: '' });
    setConfirm({ email: email.trim(), unit, kind: kind || null, n });
  };
  const give = async () => {
    setState({ busy: true, error: null, done: '' });
    const body = { to_email: confirm.email, unit: confirm.unit, amount: confirm.n };
    if (confirm.kind) {
      body.resource_kind = confirm.kind;
    }
    try {
      await api.post('/v1/me/credits/gifts', body, { idempotent: true });
      const text = t('wallet.gift.done', { amount: amountText(confirm.unit, confirm.kind, confirm.n, t, lang), email: confirm.email });
      setState({ busy: false, error: null, done: text });
      announce(text);
      setConfirm(null);
      setAmount('');
      setEmail('');
      onGiven();
    } catch (error) {
      setState({ busy: false, error, done: '' });
      setConfirm(null);
    }
  };
  const fields = state.error instanceof ApiError ? state.error.fields : {};
  const err = (name) => fields[name] && html`<p class="field-error" id="gift-${name}-error">${fields[name]}</p>`;
  return html`
    ${state.done && html`<p class="alert alert--success">${state.done}</p>`}
    ${state.error && html`<p class="alert alert--error" role="alert">${walletError(state.error, t)}</p>`}
    ${confirm
      ? html`
        <div class="wallet-confirm card" role="group" aria-labelledby="gift-confirm">
          <p id="gift-confirm" tabindex="-1" ref=${confirmRef}>
            ${t('wallet.gift.confirm', { amount: amountText(confirm.unit, confirm.kind, confirm.n, t, lang), email: confirm.email })}</p>
          <div class="wallet-actions">
            <button class="button" type="button" disabled=${state.busy} onClick=${give}>${t('wallet.gift.yes')}</button>
            <button class="button button--secondary" type="button" onClick=${() => setConfirm(null)}>${t('wallet.cancel')}</button>
          </div>
        </div>`
      : html`
        <form class="form" onSubmit=${check} novalidate>
          <div class="field ${fields.to_email ? 'field--invalid' : ''}">
            <label for="gift-to_email">${t('wallet.gift.email')}</label>
            <input id="gift-to_email" type="email" autocomplete="off" required value=${email} onInput=${(e) => setEmail(e.target.value)}
              aria-invalid=${fields.to_email ? 'true' : undefined} aria-describedby=${fields.to_email ? 'gift-to_email-error' : undefined} />
            ${err('to_email')}
          </div>
          <div class="field">
            <label for="gift-unit">${t('wallet.gift.which')}</label>
            <select id="gift-unit" value=${which} onChange=${(e) => setWhich(e.target.value)}>
              ${spendable.map((b) => {
                const what = b.unit === 'cents' ? t('wallet.credits.money') : t('wallet.credits.hours_of', { kind: t(`wallet.kind.${b.resource_kind}`) });
                return html`<option value="${b.unit}:${b.resource_kind || ''}">${`${what} (${amountText(b.unit, b.resource_kind, b.available, t, lang)})`}</option>`;
              })}
            </select>
          </div>
          <div class="field ${fields.amount ? 'field--invalid' : ''}">
            <label for="gift-amount">${unit === 'cents' ? t('wallet.gift.amount_euros') : t('wallet.gift.amount_minutes')}</label>
            <input id="gift-amount" inputmode=${unit === 'cents' ? 'decimal' : 'numeric'} required value=${amount}
              onInput=${(e) => setAmount(e.target.value)}
              aria-invalid=${fields.amount ? 'true' : undefined} aria-describedby=${fields.amount ? 'gift-amount-error' : undefined} />
            ${err('amount')}
          </div>
          <button class="button" type="submit">${t('wallet.gift.submit')}</button>
        </form>`}`;
}

function movementAmount(m, t, lang) {
  const sums = {};
  for (const l of m.lines) {
    const k = `${l.unit}:${l.resource_kind || ''}`;
    sums[k] = (sums[k] || 0) + l.amount;
  }
  return Object.entries(sums).map(([k, n]) => {
    const [unit, kind] = k.split(':');
    const sign = n > 0 ? '+' : '';
    return unit === 'cents' ? `${sign}${formatPrice(n, lang)}` : `${n > 0 ? '+' : ''}${amountText(unit, kind, n, t, lang)}`;
  }).join(', ');
}

function Movements({ version }) {
  const { t, lang, api } = useApp();
  const [pages, setPages] = useState({ items: [], next: '', loading: true, error: null });
  const load = async (cursor) => {
    setPages((p) => ({ ...p, loading: true, error: null }));
    try {
      const page = await api.get(`/v1/me/credits/movements?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      setPages((p) => ({ items: cursor ? [...p.items, ...page.items] : page.items, next: page.next_cursor || '', loading: false, error: null }));
    } catch (error) {
      setPages((p) => ({ ...p, loading: false, error }));
    }
  };
  useEffect(() => {
    load('');
  }, [version]);
  return html`
    <${Problem} error=${pages.error} />
    ${!pages.loading && pages.items.length === 0 && html`<p class="empty">${t('wallet.movements.none')}</p>`}
    <ul class="wallet-rows">
      ${pages.items.map((m) => html`
        <li class="wallet-row" key=${m.id}>
          <p class="wallet-row__main"><strong>${t(`wallet.movement.${m.kind}`)}</strong>${m.reason ? ` · ${m.reason}` : ''}</p>
          <p>${day(m.created_at, lang, parisZone)}</p>
          <p class="wallet-amount">${movementAmount(m, t, lang)}</p>
        </li>`)}
    </ul>
    ${pages.loading && html`<p role="status">${t('loading')}</p>`}
    ${pages.next && !pages.loading && html`<button class="button button--secondary" type="button" onClick=${() => load(pages.next)}>${t('wallet.more')}</button>`}`;
}

export default function Credits() {
  const { t, api } = useApp();
  const s = useLoad(() => loadCredits(api));
  const [version, setVersion] = useState(0);
  const given = () => {
    s.reload();
    setVersion((v) => v + 1);
  };
  return html`
    <${Page} title=${t('wallet.credits.title')} wide>
      <${WalletNav} current="/credits" />
      ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
      <${Problem} error=${s.error} />
      ${s.data && html`
        <section aria-labelledby="balances-title">
          <h2 id="balances-title">${t('wallet.credits.balances')}</h2>
          <${Balances} data=${s.data} />
        </section>
        <section aria-labelledby="gift-title">
          <h2 id="gift-title">${t('wallet.gift.title')}</h2>
          <${Gift} data=${s.data} onGiven=${given} />
        </section>`}
      <section aria-labelledby="movements-title">
        <h2 id="movements-title">${t('wallet.movements.title')}</h2>
        <p class="wallet-actions">
          <${DownloadLink} class="button button--secondary" href="/v1/me/credits/statement.pdf">${t('wallet.movements.pdf')}<//>
          <${DownloadLink} class="button button--secondary" href="/v1/me/credits/statement.csv">${t('wallet.movements.csv')}<//>
        </p>
        <${Movements} version=${version} />
      </section>
    <//>`;
}
