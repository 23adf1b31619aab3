// Invoices: what the member still owes for pay-per-use time (paid online
// here), and their invoices and credit notes, newest first, each with its
// PDF (a plain link: the session cookie authorises the download).
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice } from '../lib/format.js';
import {
  loadSites, useLoad, Problem, walletError, WalletNav, parisZone, day, DownloadLink,
  returnURLs, goToCheckout, BuyerFields, emptyAddress, buyerOf, minutesText,
} from '../lib/wallet.js';

// At most 5 pages of 200 (api.all): a member's lifetime of invoices.
async function loadInvoices(api) {
  const items = await api.all('/v1/me/invoices', 5);
  // The API lists them in issue order; the newest matters most.
  return items.reverse();
}

async function loadCharges(api) {
  const [charges, sites] = await Promise.all([api.get('/v1/me/charges'), loadSites(api)]);
  const bySite = {};
  for (const c of charges.items) {
    (bySite[c.site_id] = bySite[c.site_id] || []).push(c);
  }
  return { bySite, sites };
}

function statusText(inv, t, lang) {
  if (inv.paid_at) {
    return t(inv.kind === 'credit_note' ? 'wallet.invoice.refunded' : 'wallet.invoice.paid', { date: day(inv.paid_at, lang, parisZone) });
  }
  if (inv.due_date) {
    return t('wallet.invoice.due', { date: day(`${inv.due_date}T12:00:00Z`, lang, parisZone) });
  }
  return t('wallet.invoice.unpaid');
}

function Invoices() {
  const { t, lang, api } = useApp();
  const s = useLoad(() => loadInvoices(api));
  if (!s.data) {
    return s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`;
  }
  if (s.data.length === 0) {
    return html`<p class="empty">${t('wallet.invoices.none')}</p>`;
  }
  return html`
    <ul class="wallet-rows">
      ${s.data.map((inv) => {
        const kind = t(`wallet.invoice.${inv.kind}`);
        return html`
          <li class="wallet-row" key=${inv.id}>
            <p class="wallet-row__main"><strong>${kind} ${inv.number}</strong></p>
            <p>${day(inv.issued_at, lang, parisZone)}</p>
            <p class="wallet-amount">${formatPrice(inv.total_ttc_cents, lang)} ${t('wallet.ttc')}</p>
            <p class="badge ${inv.paid_at ? 'badge--ok' : ''}">${statusText(inv, t, lang)}</p>
            <p><${DownloadLink} class="wallet-pdf" href=${`/v1/invoices/${inv.id}/pdf`}
              aria-label=${t('wallet.invoice.pdf_label', { kind, number: inv.number })}>${t('wallet.invoice.pdf')}<//></p>
          </li>`;
      })}
    </ul>`;
}

// SiteCharges: the open charges at one site, and their online payment.
function SiteCharges({ siteID, charges, site }) {
  const { t, lang, api, me } = useApp();
  const [address, setAddress] = useState(emptyAddress);
  const [state, setState] = useState({ busy: false, error: null });
  const total = charges.reduce((n, c) => n + c.amount_cents, 0);
  const zone = site ? site.timezone : parisZone;
  const pay = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    setState({ busy: true, error: null });
    try {
      const out = await api.post('/v1/me/charges/checkout', { site_id: siteID, ...returnURLs('charges'), buyer: buyerOf(me, address) },
        { idempotent: true });
      goToCheckout(out.url, { payment_id: out.payment_id });
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const headingID = `charges-${siteID}`;
  return html`
    <section class="card" aria-labelledby=${headingID}>
      <h3 id=${headingID}>${site ? site.name : t('wallet.charges.site')}</h3>
      <ul class="wallet-rows">
        ${charges.map((c) => html`
          <li class="wallet-row" key=${c.id}>
            <p class="wallet-row__main">${c.description}</p>
            <p>${day(c.created_at, lang, zone)} · ${minutesText(c.minutes)}</p>
            <p class="wallet-amount">${formatPrice(c.amount_cents, lang)} ${t('wallet.ttc')}</p>
          </li>`)}
      </ul>
      <p class="wallet-total">${t('wallet.charges.total', { amount: formatPrice(total, lang) })}</p>
      <form class="form" onSubmit=${pay} novalidate aria-busy=${state.busy ? 'true' : 'false'}>
        ${state.error && html`<p class="alert ${state.error.code === 'online_payment_unavailable' ? 'alert--info' : 'alert--error'}" role="alert">
          ${walletError(state.error, t)}</p>`}
        ${!me.billing_address && html`<${BuyerFields} prefix=${headingID} value=${address} onInput=${setAddress}
          fields=${state.error ? state.error.fields || {} : {}} />`}
        <button class="button" type="submit">${state.busy ? t('wallet.buy.busy') : t('wallet.charges.pay')}</button>
      </form>
    </section>`;
}

function Charges() {
  const { t, api } = useApp();
  const s = useLoad(() => loadCharges(api));
  if (!s.data) {
    return s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`;
  }
  const ids = Object.keys(s.data.bySite);
  if (ids.length === 0) {
    return html`<p class="empty">${t('wallet.charges.none')}</p>`;
  }
  return html`
    <div class="cards">
      ${ids.map((id) => html`<${SiteCharges} key=${id} siteID=${id} charges=${s.data.bySite[id]} site=${s.data.sites[id]} />`)}
    </div>`;
}

export default function InvoicesPage() {
  const { t } = useApp();
  return html`
    <${Page} title=${t('wallet.invoices.title')} wide>
      <${WalletNav} current="/invoices" />
      <section aria-labelledby="charges-title">
        <h2 id="charges-title">${t('wallet.charges.title')}</h2>
        <${Charges} />
      </section>
      <section aria-labelledby="invoices-title">
        <h2 id="invoices-title">${t('wallet.invoices.list')}</h2>
        <${Invoices} />
      </section>
    <//>`;
}
