// The console's money page: a day's cash drawer with its totals per
// method and refunds, the closings of the legal entity and closing a day
// that is over, the signed archives, the site's invoices and credit notes,
// and the month's exports (CSV for a spreadsheet, FEC for the accountant).
// Downloads are plain links: the session cookie authorises them.
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice, formatDate, formatTime } from '../lib/format.js';
import { DownloadLink } from '../lib/wallet.js';
import {
  useSite, SitePicker, SiteGate, Problem, useLoad, localDay, midnight, nextDay, previousMonth, ConsoleNavB,
} from '../lib/console-b.js';

const methods = ['cash', 'card', 'cheque', 'transfer', 'sepa'];

function Refund({ payment, onDone }) {
  const { t, lang, api, announce } = useApp();
  const left = payment.amount_cents - payment.refunded_cents;
  const [amount, setAmount] = useState((left / 100).toFixed(2).replace('.', ','));
  const [reason, setReason] = useState('');
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const id = `refund-${payment.id}`;
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    const cents = Math.round(Number(amount.replace(',', '.').replace(/\s/g, '')) * 100);
    setState({ busy: true, error: null, done: null });
    try {
      const out = await api.post(`/v1/payments/${payment.id}/refund`, { amount_cents: cents, reason: reason.trim() }, { idempotent: true });
      setState({ busy: false, error: null, done: out });
      announce(out.credit_note ? t('consoleb.refund.done', { number: out.credit_note.number }) : t('consoleb.refund.pending'));
      onDone();
    } catch (error) {
      setState({ busy: false, error, done: null });
    }
  };
  if (state.done) {
    const cn = state.done.credit_note;
    return html`<p class="alert alert--success" role="status">
      ${cn ? html`${t('consoleb.refund.done', { number: cn.number })} ${' '}
        <${DownloadLink} href=${cn.pdf_url || `/v1/invoices/${cn.id}/pdf`}>${t('consoleb.refund.pdf', { number: cn.number })}<//>`
        : t('consoleb.refund.pending')}</p>`;
  }
  const fields = state.error && state.error.fields ? state.error.fields : {};
  return html`
    <form class="form consoleb-inline" onSubmit=${submit} novalidate aria-label=${t('consoleb.refund.form', { name: payment.user_name })}>
      ${state.error && html`<${Problem} error=${state.error} />`}
      <div class="field">
        <label for="${id}-amount">${t('consoleb.refund.amount', { max: formatPrice(left, lang) })}</label>
        <input id="${id}-amount" inputmode="decimal" value=${amount} onInput=${(e) => setAmount(e.target.value)}
          aria-invalid=${fields.amount_cents ? 'true' : undefined} />
        ${fields.amount_cents && html`<p class="field-error">${fields.amount_cents}</p>`}
      </div>
      <div class="field">
        <label for="${id}-reason">${t('consoleb.refund.reason')}</label>
        <input id="${id}-reason" value=${reason} onInput=${(e) => setReason(e.target.value)} required
          aria-invalid=${fields.reason ? 'true' : undefined} />
        ${fields.reason && html`<p class="field-error">${fields.reason}</p>`}
      </div>
      <button class="button" type="submit">${state.busy ? t('consoleb.busy') : t('consoleb.refund.submit')}</button>
    </form>`;
}

function Drawer({ site }) {
  const { t, lang, api } = useApp();
  const zone = site.timezone;
  const [day, setDay] = useState(() => localDay(new Date(), zone));
  const [method, setMethod] = useState('');
  const [refunding, setRefunding] = useState('');
  const s = useLoad(() => {
    const q = new URLSearchParams({ from: midnight(day, zone), to: midnight(nextDay(day), zone), limit: '200' });
    if (method) {
      q.set('method', method);
    }
    return api.get(`/v1/sites/${site.id}/payments?${q}`);
  }, [site.id, day, method]);
  return html`
    <section class="card consoleb-section" aria-labelledby="drawer-title">
      <h2 id="drawer-title">${t('consoleb.drawer.title')}</h2>
      <div class="consoleb-filters">
        <div class="field">
          <label for="drawer-day">${t('consoleb.drawer.day')}</label>
          <input id="drawer-day" type="date" value=${day} onChange=${(e) => e.target.value && setDay(e.target.value)} />
        </div>
        <div class="field">
          <label for="drawer-method">${t('consoleb.drawer.method')}</label>
          <select id="drawer-method" value=${method} onChange=${(e) => setMethod(e.target.value)}>
            <option value="">${t('consoleb.drawer.all')}</option>
            ${methods.map((m) => html`<option key=${m} value=${m}>${t(`consoleb.method.${m}`)}</option>`)}
          </select>
        </div>
      </div>
      ${!s.data ? (s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`) : html`
        <div class="consoleb-scroll" role="region" tabindex="0" aria-labelledby="drawer-totals-caption">
        <table class="consoleb-table consoleb-totals">
          <caption id="drawer-totals-caption">${t('consoleb.drawer.totals', { date: formatDate(midnight(day, zone), lang, zone) })}</caption>
          <thead><tr><th scope="col">${t('consoleb.drawer.method')}</th><th scope="col">${t('consoleb.drawer.count')}</th>
            <th scope="col">${t('consoleb.drawer.received')}</th><th scope="col">${t('consoleb.drawer.refunded')}</th>
            <th scope="col">${t('consoleb.drawer.net')}</th></tr></thead>
          <tbody>
            ${s.data.totals.length === 0 && html`<tr><td colspan="5">${t('consoleb.drawer.none')}</td></tr>`}
            ${s.data.totals.map((x) => html`<tr key=${x.method}><th scope="row">${t(`consoleb.method.${x.method}`)}</th><td>${x.count}</td>
              <td>${formatPrice(x.amount_cents, lang)}</td><td>${formatPrice(x.refunded_cents, lang)}</td><td>${formatPrice(x.net_cents, lang)}</td></tr>`)}
          </tbody>
        </table>
        </div>
        <ul class="consoleb-rows">
          ${s.data.items.map((p) => html`
            <li class="consoleb-row" key=${p.id}>
              <p><strong>${p.user_name}</strong> · ${p.plan_name || t(`consoleb.purpose.${p.purpose}`)}</p>
              <p>${formatTime(p.paid_at, lang, zone)} · ${t(`consoleb.method.${p.method}`)} · ${formatPrice(p.amount_cents, lang)}
                ${p.invoice_number && html` · ${t('consoleb.invoice.number', { number: p.invoice_number })}`}
                ${p.refunded_cents > 0 && html` · ${t('consoleb.drawer.refunded_part', { amount: formatPrice(p.refunded_cents, lang) })}`}</p>
              ${refunding === p.id ? html`<${Refund} payment=${p} onDone=${s.reload} />`
                : p.status === 'succeeded' && p.refunded_cents < p.amount_cents && html`<button class="button button--secondary" type="button" onClick=${() => setRefunding(p.id)}
                    aria-label=${t('consoleb.refund.open_label', { name: p.user_name, amount: formatPrice(p.amount_cents, lang) })}>${t('consoleb.refund.open')}</button>`}
            </li>`)}
        </ul>`}
    </section>`;
}

function Closings({ site }) {
  const { t, lang, api, announce } = useApp();
  const siren = site.legal && site.legal.siren;
  const zone = site.timezone;
  const [period, setPeriod] = useState(() => localDay(Date.now() - 86400000, zone));
  const [state, setState] = useState({ busy: false, error: null });
  const s = useLoad(() => (siren ? api.get(`/v1/entities/${siren}/closings`) : Promise.resolve({ items: [] })), [siren]);
  if (!siren) {
    return html`<section class="card consoleb-section" aria-labelledby="closings-title">
      <h2 id="closings-title">${t('consoleb.closings.title')}</h2><p class="empty">${t('consoleb.closings.nolegal')}</p></section>`;
  }
  const close = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    setState({ busy: true, error: null });
    try {
      const c = await api.post(`/v1/entities/${siren}/closings`, { period }, { idempotent: true });
      setState({ busy: false, error: null });
      announce(t('consoleb.closings.done', { period: c.period }));
      s.reload();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const items = s.data ? (s.data.items || []) : [];
  return html`
    <section class="card consoleb-section" aria-labelledby="closings-title">
      <h2 id="closings-title">${t('consoleb.closings.title')}</h2>
      <form class="form consoleb-filters" onSubmit=${close} novalidate>
        ${state.error && html`<${Problem} error=${state.error} />`}
        <div class="field">
          <label for="closing-period">${t('consoleb.closings.period')}</label>
          <p class="hint" id="closing-period-hint">${t('consoleb.closings.hint')}</p>
          <input id="closing-period" value=${period} aria-describedby="closing-period-hint" inputmode="numeric"
            onInput=${(e) => setPeriod(e.target.value.trim())} />
        </div>
        <button class="button" type="submit">${state.busy ? t('consoleb.busy') : t('consoleb.closings.submit')}</button>
      </form>
      ${s.error && html`<${Problem} error=${s.error} />`}
      ${s.data && (items.length === 0 ? html`<p class="empty">${t('consoleb.closings.none')}</p>` : html`
        <div class="consoleb-scroll" role="region" tabindex="0" aria-labelledby="closings-caption">
        <table class="consoleb-table consoleb-closings">
          <caption id="closings-caption">${t('consoleb.closings.list')}</caption>
          <thead><tr><th scope="col">${t('consoleb.closings.col')}</th><th scope="col">${t('consoleb.closings.total')}</th>
            <th scope="col">${t('consoleb.closings.payments')}</th><th scope="col">${t('consoleb.closings.footprint')}</th></tr></thead>
          <tbody>
            ${items.map((c) => html`<tr key=${c.id}><th scope="row">${c.period}</th><td>${formatPrice(c.total_ttc_cents, lang)}</td>
              <td>${c.payments_count}</td><td><code>${c.footprint.slice(0, 12)}…</code></td></tr>`)}
          </tbody>
        </table>
        </div>`)}
      <${Archives} siren=${siren} zone=${zone} />
    </section>`;
}

function Archives({ siren, zone }) {
  const { t } = useApp();
  const [period, setPeriod] = useState(() => previousMonth(localDay(new Date(), zone).slice(0, 7)));
  return html`
    <div class="consoleb-filters">
      <div class="field">
        <label for="archive-period">${t('consoleb.archive.period')}</label>
        <p class="hint" id="archive-period-hint">${t('consoleb.archive.hint')}</p>
        <input id="archive-period" type="month" value=${period} aria-describedby="archive-period-hint"
          onChange=${(e) => e.target.value && setPeriod(e.target.value)} />
      </div>
      <p><${DownloadLink} class="button button--secondary consoleb-archive" href=${`/v1/entities/${siren}/archives/${period}`}>
        ${t('consoleb.archive.download', { period })}<//></p>
    </div>`;
}

function Invoices({ site }) {
  const { t, lang, api } = useApp();
  const zone = site.timezone;
  const [month, setMonth] = useState(() => localDay(new Date(), zone).slice(0, 7));
  const [search, setSearch] = useState('');
  // The whole month (a busy site issues more than one page of 200).
  const s = useLoad(() => api.all(`/v1/sites/${site.id}/invoices?from=${month}&to=${month}`), [site.id, month]);
  const words = search.trim().toLowerCase();
  const items = s.data ? s.data.filter((inv) => !words
    || inv.number.includes(words) || ((inv.buyer && inv.buyer.name) || '').toLowerCase().includes(words)) : [];
  return html`
    <section class="card consoleb-section" aria-labelledby="invoices-title">
      <h2 id="invoices-title">${t('consoleb.invoices.title')}</h2>
      <div class="consoleb-filters">
        <div class="field">
          <label for="invoices-month">${t('consoleb.invoices.month')}</label>
          <input id="invoices-month" type="month" value=${month} onChange=${(e) => e.target.value && setMonth(e.target.value)} />
        </div>
        <div class="field">
          <label for="invoices-search">${t('consoleb.invoices.search')}</label>
          <input id="invoices-search" type="search" value=${search} onInput=${(e) => setSearch(e.target.value)} />
        </div>
      </div>
      <p class="consoleb-exports">
        <${DownloadLink} class="button button--secondary" href=${`/v1/sites/${site.id}/invoices.csv?period=${month}`}>${t('consoleb.export.csv', { month })}<//>
        ${' '}
        <${DownloadLink} class="button button--secondary" href=${`/v1/sites/${site.id}/fec?period=${month}`}>${t('consoleb.export.fec', { month })}<//>
      </p>
      ${!s.data ? (s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`)
        : items.length === 0 ? html`<p class="empty">${t('consoleb.invoices.none')}</p>` : html`
        <ul class="consoleb-rows">
          ${items.map((inv) => {
            const kind = t(`consoleb.invoice.${inv.kind}`);
            return html`<li class="consoleb-row" key=${inv.id}>
              <p><strong>${kind} ${inv.number}</strong> · ${(inv.buyer && inv.buyer.name) || ''}</p>
              <p>${formatDate(inv.issued_at, lang, zone)} · ${formatPrice(inv.total_ttc_cents, lang)}</p>
              <p><${DownloadLink} href=${`/v1/invoices/${inv.id}/pdf`} aria-label=${t('consoleb.invoice.pdf_label', { kind, number: inv.number })}>PDF<//></p>
            </li>`;
          })}
        </ul>`}
    </section>`;
}

export default function ConsoleMoney() {
  const { t } = useApp();
  const state = useSite();
  return html`
    <${Page} title=${t('consoleb.money.title')} wide>
      <${ConsoleNavB} current="/console/money" />
      <${SitePicker} state=${state} />
      <${SiteGate} state=${state}>${(site) => html`
        <div key=${site.id}>
          <${Drawer} site=${site} />
          <${Closings} site=${site} />
          <${Invoices} site=${site} />
        </div>`}<//>
    <//>`;
}
