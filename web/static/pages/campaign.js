// A campaign's public page, open to everyone signed in or not: its text,
// its progress, its tiers and who asked to be named; members contribute
// through Stripe Checkout (the API takes contributions from members only,
// so a visitor is asked to sign in first).
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice } from '../lib/format.js';
import { parseEuros, amountText } from './credits.js';
import {
  useLoad, Problem, parisZone, day, returnURLs, goToCheckout, BuyerFields, emptyAddress, buyerOf,
} from '../lib/wallet.js';

// percent of the goal raised, whole, for the progress bar's words.
export function percent(raised, goal) {
  return goal > 0 ? Math.floor((raised * 100) / goal) : 0;
}

function Progress({ c }) {
  const { t, lang } = useApp();
  const words = t('wallet.campaign.progress', {
    raised: formatPrice(c.raised_cents, lang), goal: formatPrice(c.goal_cents, lang), percent: percent(c.raised_cents, c.goal_cents),
  });
  return html`
    <div class="wallet-progress">
      <p id="campaign-progress">${words}</p>
      <progress class="wallet-progress__bar" max=${c.goal_cents} value=${Math.min(c.raised_cents, c.goal_cents)}
        aria-labelledby="campaign-progress" aria-valuetext=${words}></progress>
      <p>${t('wallet.campaign.backers', { n: c.backers })} · ${c.status === 'open'
        ? t('wallet.campaign.until', { date: day(c.deadline, lang, parisZone) })
        : t(`wallet.campaign.status.${c.status}`)}</p>
    </div>`;
}

function Contribute({ c }) {
  const { t, api, me } = useApp();
  const [amount, setAmount] = useState('');
  const [publicName, setPublicName] = useState('');
  const [address, setAddress] = useState(emptyAddress);
  const [state, setState] = useState({ busy: false, error: null, invalid: '' });
  if (c.status !== 'open' || new Date(c.starts_at) > new Date()) {
    return html`<p>${t('wallet.campaign.closed')}</p>`;
  }
  if (!me) {
    const next = encodeURIComponent(`/campaigns/${c.id}`);
    return html`<p>${t('wallet.campaign.signin_text')} <a href="/sign-in?next=${next}">${t('wallet.campaign.signin')}</a></p>`;
  }
  const submit = async (e) => {
    e.preventDefault();
    const cents = parseEuros(amount);
    if (!Number.isInteger(cents) || cents < 50) {
      setState({ busy: false, error: null, invalid: t('wallet.campaign.bad_amount') });
      return;
    }
    setState({ busy: true, error: null, invalid: '' });
    const body = { amount_cents: cents, ...returnURLs('contribution'), buyer: buyerOf(me, address) };
    if (publicName.trim()) {
      body.public_name = publicName.trim();
    }
    try {
      const out = await api.post(`/v1/campaigns/${encodeURIComponent(c.id)}/checkout`, body, { idempotent: true });
      goToCheckout(out.url, { contribution_id: out.contribution_id, campaign_id: c.id });
    } catch (error) {
      setState({ busy: false, error, invalid: '' });
    }
  };
  const fields = state.error ? state.error.fields || {} : {};
  const amountError = state.invalid || fields.amount_cents;
  return html`
    <form class="form" onSubmit=${submit} novalidate aria-busy=${state.busy ? 'true' : 'false'}>
      <${Problem} error=${state.error} />
      <div class="field ${amountError ? 'field--invalid' : ''}">
        <label for="contribute-amount">${t('wallet.campaign.amount')}</label>
        <input id="contribute-amount" inputmode="decimal" required value=${amount} onInput=${(e) => setAmount(e.target.value)}
          aria-invalid=${amountError ? 'true' : undefined} aria-describedby=${amountError ? 'contribute-amount-error' : 'contribute-amount-hint'} />
        <p class="hint" id="contribute-amount-hint">${t('wallet.campaign.amount_hint')}</p>
        ${amountError && html`<p class="field-error" id="contribute-amount-error">${amountError}</p>`}
      </div>
      <div class="field">
        <label for="contribute-name">${t('wallet.campaign.public_name')}</label>
        <input id="contribute-name" autocomplete="nickname" value=${publicName} onInput=${(e) => setPublicName(e.target.value)}
          aria-describedby="contribute-name-hint" />
        <p class="hint" id="contribute-name-hint">${t('wallet.campaign.public_name_hint')}</p>
      </div>
      ${!me.billing_address && html`<${BuyerFields} prefix="contribute" value=${address} onInput=${setAddress} fields=${fields} />`}
      <p class="hint">${t('wallet.buy.stripe')}</p>
      <button class="button" type="submit">${state.busy ? t('wallet.buy.busy') : t('wallet.campaign.submit')}</button>
    </form>`;
}

export default function Campaign({ params }) {
  const { t, lang, api } = useApp();
  const s = useLoad(() => api.get(`/v1/campaigns/${encodeURIComponent(params.id)}/public`), [params.id]);
  const c = s.data;
  return html`
    <${Page} title=${c ? c.title : t('wallet.campaign.title')} wide>
      ${!c && !s.error && html`<p role="status">${t('loading')}</p>`}
      ${s.error && (s.error.status === 404
        ? html`<p class="alert alert--error" role="alert">${t('wallet.campaign.not_found')}</p>`
        : html`<${Problem} error=${s.error} />`)}
      ${c && html`
        ${c.description.split(/\n\s*\n/).filter(Boolean).map((para) => html`<p class="wallet-text">${para}</p>`)}
        <${Progress} c=${c} />
        <p>${t(`wallet.campaign.mode.${c.mode}`)}</p>
        ${c.tiers.length > 0 && html`
          <section aria-labelledby="tiers-title">
            <h2 id="tiers-title">${t('wallet.campaign.tiers')}</h2>
            <ul class="cards wallet-list">
              ${c.tiers.map((tier) => html`
                <li class="card" key=${tier.name}>
                  <h3>${tier.name}</h3>
                  <p>${t('wallet.campaign.from', { amount: formatPrice(tier.min_cents, lang) })}</p>
                  <p>${t('wallet.campaign.reward', { credit: amountText(tier.credit_unit, tier.resource_kind, tier.credit_amount, t, lang) })}</p>
                  ${tier.expires_after_days > 0 && html`<p class="hint">${t('wallet.campaign.valid_days', { days: tier.expires_after_days })}</p>`}
                </li>`)}
            </ul>
          </section>`}
        <section aria-labelledby="contribute-title">
          <h2 id="contribute-title">${t('wallet.campaign.contribute')}</h2>
          <${Contribute} c=${c} />
        </section>
        ${c.backer_names.length > 0 && html`
          <section aria-labelledby="backers-title">
            <h2 id="backers-title">${t('wallet.campaign.thanks')}</h2>
            <ul class="wallet-names">${c.backer_names.map((n) => html`<li>${n}</li>`)}</ul>
          </section>`}`}
    <//>`;
}
