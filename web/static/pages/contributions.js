// My contributions: every campaign contribution of the member, newest
// first, with its receipt (and its invoice when paid online).
import { html } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice } from '../lib/format.js';
import { useLoad, Problem, WalletNav, parisZone, day, DownloadLink } from '../lib/wallet.js';
import { amountText } from './credits.js';

// loadContributions reads the contributions and the titles of their
// campaigns (one public read per campaign).
async function loadContributions(api) {
  const list = await api.get('/v1/me/contributions');
  const titles = {};
  await Promise.all([...new Set(list.items.map((c) => c.campaign_id))].map(async (id) => {
    const c = await api.get(`/v1/campaigns/${encodeURIComponent(id)}/public`).catch(() => null);
    titles[id] = c ? c.title : '';
  }));
  return { items: list.items, titles };
}

export default function Contributions() {
  const { t, lang, api } = useApp();
  const s = useLoad(() => loadContributions(api));
  return html`
    <${Page} title=${t('wallet.contrib.title')} wide>
      <${WalletNav} current="/contributions" />
      ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
      <${Problem} error=${s.error} />
      ${s.data && s.data.items.length === 0 && html`<p class="empty">${t('wallet.contrib.none')}</p>`}
      ${s.data && s.data.items.length > 0 && html`
        <ul class="wallet-rows">
          ${s.data.items.map((c) => html`
            <li class="wallet-row" key=${c.id}>
              <p class="wallet-row__main"><strong><a href="/campaigns/${c.campaign_id}">${s.data.titles[c.campaign_id] || t('wallet.campaign.title')}</a></strong></p>
              <p>${day(c.contributed_at, lang, parisZone)} · ${t('wallet.contrib.number', { number: c.receipt_number })}</p>
              <p class="wallet-amount">${formatPrice(c.amount_cents, lang)}</p>
              <p class="badge ${c.status === 'paid' ? 'badge--ok' : ''}">${t(`wallet.cstatus.${c.status}`)}</p>
              ${c.credit_unit && c.credit_amount > 0 && html`<p>${t('wallet.contrib.credit', {
                credit: amountText(c.credit_unit, c.credit_resource_kind, c.credit_amount, t, lang) })}</p>`}
              <p class="wallet-links">
                <${DownloadLink} href=${`/v1/contributions/${c.id}/receipt.pdf`} aria-label=${t('wallet.contrib.receipt_label', { number: c.receipt_number })}>${t('wallet.contrib.receipt')}<//>
                ${c.invoice_id && html` · <${DownloadLink} href=${`/v1/invoices/${c.invoice_id}/pdf`}>${t('wallet.contrib.invoice')}<//>`}
              </p>
            </li>`)}
        </ul>`}
    <//>`;
}
