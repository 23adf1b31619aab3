// Plans: what a site sells (memberships, day passes, packs), bought through
// Stripe Checkout, and the member's own memberships, passes and packs, with
// cancelling and changing plan.
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice, dayKey } from '../lib/format.js';
import {
  loadSites, zoneOf, useLoad, Problem, walletError, returnURLs, goToCheckout,
  BuyerFields, emptyAddress, buyerOf, day, minutesText, useFocusWhen,
} from '../lib/wallet.js';

// loadPlans reads the plans of a site and what the member holds, with the
// plans held but no longer on sale (to name them).
async function loadPlans(api, siteID) {
  const [plans, holdings] = await Promise.all([
    api.get(`/v1/plans?site_id=${encodeURIComponent(siteID)}`),
    api.get('/v1/me/memberships'),
  ]);
  const byID = {};
  for (const p of plans.items) {
    byID[p.id] = p;
  }
  const held = [...holdings.memberships, ...holdings.day_passes, ...holdings.packs];
  const missing = [...new Set(held.flatMap((h) => [h.plan_id, h.next_plan_id]).filter((id) => id && !byID[id]))];
  await Promise.all(missing.map(async (id) => {
    byID[id] = await api.get(`/v1/plans/${encodeURIComponent(id)}`);
  }));
  return { plans: plans.items, online: plans.online_payment !== false, byID, holdings };
}

// includesList says what a plan gives, one sentence each.
export function includesList(plan, t) {
  const inc = plan.includes;
  const out = [];
  if (plan.kind === 'pack') {
    out.push(t('wallet.plan.pack', { time: minutesText(inc.pack_minutes), kind: t(`wallet.kind.${inc.pack_resource_kind}`) }));
    out.push(t('wallet.plan.pack_valid', { days: inc.pack_valid_days }));
    return out;
  }
  if (inc.resource_kinds.length > 0) {
    out.push(t('wallet.plan.kinds', { kinds: inc.resource_kinds.map((k) => t(`wallet.kind.${k}`)).join(', ') }));
  }
  for (const a of inc.allowances) {
    out.push(t('wallet.plan.allowance', { time: minutesText(a.minutes_per_period), kind: t(`wallet.kind.${a.resource_kind}`) }));
  }
  out.push(t(`wallet.plan.door.${inc.door_access}`));
  if (inc.pay_per_use) {
    out.push(t('wallet.plan.pay_per_use'));
  }
  return out;
}

// priceText: "25,00 € TTC par mois (20,83 € HT)".
function priceText(plan, t, lang) {
  const ttc = formatPrice(plan.price_cents, lang);
  const per = plan.kind === 'membership' ? ` ${t('wallet.plan.per_month')}` : '';
  if (plan.vat_rate_bp === 0) {
    return `${ttc}${per} (${t('wallet.plan.no_vat')})`;
  }
  return `${ttc} ${t('wallet.ttc')}${per} (${formatPrice(plan.price_ht_cents, lang)} ${t('wallet.ht')})`;
}

// Buy is a plan's purchase: the day of a pass, the billing address when
// the account keeps none, then Stripe Checkout. When online payment is not
// configured the plan says it is paid at the desk.
function Buy({ plan, site }) {
  const { t, api, me } = useApp();
  const [open, setOpen] = useState(false);
  const [date, setDate] = useState(() => dayKey(new Date(), site.timezone));
  const [address, setAddress] = useState(emptyAddress);
  const [state, setState] = useState({ busy: false, error: null });
  const formRef = useFocusWhen(open);
  const atDesk = state.error && ['online_payment_unavailable', 'price_too_low_for_online_payment'].includes(state.error.code);
  const label = t(`wallet.buy.${plan.kind}`);
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    setState({ busy: true, error: null });
    const body = { ...returnURLs('plan'), buyer: buyerOf(me, address) };
    if (plan.kind === 'membership') {
      body.plan_id = plan.id;
    } else if (plan.kind === 'pack') {
      body.pack_id = plan.id;
    } else {
      body.day_pass = { site_id: site.id, date };
    }
    if (!plan.site_id) {
      body.site_id = site.id; // a network plan is sold (and invoiced) by this site
    }
    try {
      const out = await api.post('/v1/checkout', body, { idempotent: true });
      goToCheckout(out.url, { payment_id: out.payment_id, target_id: out.target_id, plan_id: plan.id });
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  if (!open) {
    return html`<button class="button" type="button" aria-label=${t('wallet.buy.label', { action: label, plan: plan.name })} onClick=${() => setOpen(true)}>${label}</button>`;
  }
  const fields = state.error ? state.error.fields || {} : {};
  const prefix = `buy-${plan.id}`;
  return html`
    <form class="form wallet-buy" ref=${formRef} onSubmit=${submit} novalidate aria-busy=${state.busy ? 'true' : 'false'}>
      ${atDesk
        ? html`<p class="alert alert--info" role="alert">${walletError(state.error, t)}</p>`
        : html`<${Problem} error=${state.error} />`}
      ${plan.kind === 'day_pass' && html`
        <div class="field">
          <label for="${prefix}-date">${t('wallet.buy.date')}</label>
          <input id="${prefix}-date" type="date" required value=${date} min=${dayKey(new Date(), site.timezone)}
            onInput=${(e) => setDate(e.target.value)} aria-invalid=${fields['day_pass.date'] ? 'true' : undefined} />
          ${fields['day_pass.date'] && html`<p class="field-error">${fields['day_pass.date']}</p>`}
        </div>`}
      ${!me.billing_address && html`<${BuyerFields} prefix=${prefix} value=${address} onInput=${setAddress} fields=${fields} />`}
      <p class="hint">${t('wallet.buy.stripe')}</p>
      <div class="wallet-actions">
        <button class="button" type="submit" disabled=${atDesk}>${state.busy ? t('wallet.buy.busy') : t('wallet.buy.pay')}</button>
        <button class="button button--secondary" type="button" onClick=${() => setOpen(false)}>${t('wallet.cancel')}</button>
      </div>
    </form>`;
}

// Stripe's least amount: a plan cheaper than this is paid at the desk.
const stripeMinimumCents = 50;

// PlanCard is a plan on sale. A member already subscribed moves to another
// monthly plan by changing plan (from the membership), not by a second
// subscription.
function PlanCard({ plan, site, online, held }) {
  const { t, lang } = useApp();
  const id = `plan-${plan.id}`;
  let action;
  if (plan.kind === 'membership' && held.includes(plan.id)) {
    action = html`<p class="badge badge--ok">${t('wallet.plan.yours')}</p>`;
  } else if (plan.kind === 'membership' && held.length > 0) {
    action = html`<p class="hint">${t('wallet.plan.use_change')}</p>`;
  } else if (online && plan.price_cents >= stripeMinimumCents) {
    action = html`<${Buy} plan=${plan} site=${site} />`;
  } else {
    action = html`<p class="alert alert--info">${t('wallet.buy.at_desk')}</p>`;
  }
  return html`
    <li class="card wallet-plan" aria-labelledby=${id}>
      <h3 id=${id}>${plan.name}</h3>
      <p class="badge">${t(`wallet.plankind.${plan.kind}`)}</p>
      <p class="wallet-price">${priceText(plan, t, lang)}</p>
      ${plan.description && html`<p>${plan.description}</p>`}
      <ul class="wallet-includes">
        ${includesList(plan, t).map((s) => html`<li>${s}</li>`)}
      </ul>
      ${action}
    </li>`;
}

// Membership is one of the member's memberships: its plan, its renewal,
// cancelling (the effective date said before confirming) and changing plan.
function Membership({ m, data, sites, onChanged }) {
  const { t, lang, api, announce } = useApp();
  const [step, setStep] = useState(null); // null, 'cancel', 'change'
  const [newPlan, setNewPlan] = useState('');
  const [state, setState] = useState({ busy: false, error: null, done: '' });
  const confirmRef = useFocusWhen(step === 'cancel');
  const changeRef = useFocusWhen(step === 'change');
  const plan = data.byID[m.plan_id];
  const zone = zoneOf(sites, m.site_id);
  const end = m.current_period_end && new Date(m.current_period_end) > new Date() ? m.current_period_end : null;
  const running = ['active', 'past_due'].includes(m.status);
  const others = data.plans.filter((p) => p.kind === 'membership' && p.id !== m.plan_id);

  const run = async (call, done) => {
    setState({ busy: true, error: null, done: '' });
    try {
      const text = done(await call());
      setState({ busy: false, error: null, done: text });
      setStep(null);
      announce(text);
      onChanged();
    } catch (error) {
      setState({ busy: false, error, done: '' });
    }
  };
  const cancel = () => run(() => api.post(`/v1/memberships/${encodeURIComponent(m.id)}/cancel`, {}),
    (out) => (out.cancel_at_period_end && out.current_period_end
      ? t('wallet.membership.canceled_at_end', { date: day(out.current_period_end, lang, zone) })
      : t('wallet.membership.canceled_now')));
  const change = (e) => {
    e.preventDefault();
    if (!newPlan) {
      return;
    }
    run(() => api.post(`/v1/memberships/${encodeURIComponent(m.id)}/change-plan`, { plan_id: newPlan }), (out) => {
      const name = (data.byID[newPlan] || {}).name || '';
      if (out.plan_id === newPlan) {
        return t('wallet.membership.changed_now', { plan: name });
      }
      if (out.next_plan_id === newPlan && out.current_period_end) {
        return t('wallet.membership.changed_later', { plan: name, date: day(out.current_period_end, lang, zone) });
      }
      return t('wallet.membership.change_sent', { plan: name });
    });
  };
  const headingID = `membership-${m.id}`;
  return html`
    <li class="card wallet-holding" aria-labelledby=${headingID}>
      <h3 id=${headingID}>${plan ? plan.name : t('wallet.membership.plan')}</h3>
      <p class="badge ${m.status === 'active' ? 'badge--ok' : ''}">${t(`wallet.mstatus.${m.status}`)}</p>
      ${end && html`<p>${m.cancel_at_period_end
        ? t('wallet.membership.ends', { date: day(end, lang, zone) })
        : t('wallet.membership.renews', { date: day(end, lang, zone) })}</p>`}
      ${m.next_plan_id && html`<p>${t('wallet.membership.next', { plan: (data.byID[m.next_plan_id] || {}).name || '' })}</p>`}
      ${state.done && html`<p class="alert alert--success">${state.done}</p>`}
      <${Problem} error=${state.error} />
      ${running && !m.cancel_at_period_end && step === null && html`
        <div class="wallet-actions">
          ${others.length > 0 && html`<button class="button button--secondary" type="button" onClick=${() => setStep('change')}>${t('wallet.membership.change')}</button>`}
          <button class="button button--secondary" type="button" onClick=${() => setStep('cancel')}>${t('wallet.membership.cancel')}</button>
        </div>`}
      ${step === 'cancel' && html`
        <div class="wallet-confirm" role="group" aria-labelledby="${headingID}-confirm">
          <p id="${headingID}-confirm" tabindex="-1" ref=${confirmRef}>${end
            ? t('wallet.membership.cancel_confirm_end', { date: day(end, lang, zone) })
            : t('wallet.membership.cancel_confirm_now')}</p>
          <div class="wallet-actions">
            <button class="button" type="button" disabled=${state.busy} onClick=${cancel}>${t('wallet.membership.cancel_yes')}</button>
            <button class="button button--secondary" type="button" onClick=${() => setStep(null)}>${t('wallet.membership.keep')}</button>
          </div>
        </div>`}
      ${step === 'change' && html`
        <form class="form" ref=${changeRef} onSubmit=${change}>
          <div class="field">
            <label for="${headingID}-plan">${t('wallet.membership.new_plan')}</label>
            <select id="${headingID}-plan" value=${newPlan} onChange=${(e) => setNewPlan(e.target.value)}>
              <option value="">${t('wallet.membership.choose')}</option>
              ${others.map((p) => html`<option value=${p.id}>${p.name} – ${priceText(p, t, lang)}</option>`)}
            </select>
          </div>
          <p class="hint">${t('wallet.membership.change_hint')}</p>
          <div class="wallet-actions">
            <button class="button" type="submit" disabled=${state.busy || !newPlan}>${t('wallet.membership.change_yes')}</button>
            <button class="button button--secondary" type="button" onClick=${() => setStep(null)}>${t('wallet.cancel')}</button>
          </div>
        </form>`}
    </li>`;
}

function Holdings({ data, sites, onChanged }) {
  const { t, lang } = useApp();
  const h = data.holdings;
  const memberships = h.memberships.filter((m) => m.status !== 'canceled');
  const passes = h.day_passes.filter((p) => p.status !== 'canceled');
  const packs = h.packs.filter((p) => p.status !== 'canceled');
  if (memberships.length + passes.length + packs.length === 0) {
    return html`<p class="empty">${t('wallet.holdings.none')}</p>`;
  }
  return html`
    <ul class="cards wallet-list">
      ${memberships.map((m) => html`<${Membership} key=${m.id} m=${m} data=${data} sites=${sites} onChanged=${onChanged} />`)}
      ${passes.map((p) => html`
        <li class="card wallet-holding" key=${p.id}>
          <h3>${t('wallet.holdings.pass', { date: day(p.start, lang, zoneOf(sites, p.site_id)) })}</h3>
          <p class="badge ${p.status === 'active' ? 'badge--ok' : ''}">${t(`wallet.pstatus.${p.status}`)}</p>
          <p>${(sites[p.site_id] || {}).name || ''}</p>
        </li>`)}
      ${packs.map((p) => html`
        <li class="card wallet-holding" key=${p.id}>
          <h3>${(data.byID[p.plan_id] || {}).name || t('wallet.plankind.pack')}</h3>
          <p class="badge ${p.status === 'active' ? 'badge--ok' : ''}">${t(`wallet.pstatus.${p.status}`)}</p>
          <p>${t('wallet.plan.pack', { time: minutesText(p.minutes), kind: t(`wallet.kind.${p.resource_kind}`) })}</p>
          <p>${t('wallet.holdings.until', { date: day(p.valid_until, lang, zoneOf(sites, p.site_id)) })}</p>
        </li>`)}
    </ul>`;
}

function SitePlans({ site, sites }) {
  const { t, api } = useApp();
  const s = useLoad(() => loadPlans(api, site.id), [site.id]);
  if (!s.data) {
    return s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`;
  }
  // The plans of the memberships running now.
  const held = s.data.holdings.memberships.filter((m) => ['active', 'past_due'].includes(m.status)).map((m) => m.plan_id);
  return html`
    <section aria-labelledby="mine-title">
      <h2 id="mine-title">${t('wallet.holdings.title')}</h2>
      <${Holdings} data=${s.data} sites=${sites} onChanged=${s.reload} />
    </section>
    <section aria-labelledby="plans-title">
      <h2 id="plans-title">${t('wallet.plans.on_sale', { site: site.name })}</h2>
      ${s.data.plans.length === 0
        ? html`<p class="empty">${t('wallet.plans.none')}</p>`
        : html`<ul class="cards wallet-list">${s.data.plans.map((p) => html`<${PlanCard} key=${p.id} plan=${p} site=${site} online=${s.data.online} held=${held} />`)}</ul>`}
    </section>`;
}

export default function Plans() {
  const { t, api } = useApp();
  const sites = useLoad(() => loadSites(api));
  const [siteID, setSiteID] = useState('');
  const list = sites.data ? Object.values(sites.data).sort((a, b) => a.name.localeCompare(b.name)) : [];
  const site = sites.data && (sites.data[siteID] || list[0]);
  return html`
    <${Page} title=${t('wallet.plans.title')} wide>
      ${sites.loading && !sites.data && html`<p role="status">${t('loading')}</p>`}
      <${Problem} error=${sites.error} />
      ${sites.data && list.length === 0 && html`<p class="empty">${t('wallet.plans.no_site')}</p>`}
      ${list.length > 1 && html`
        <div class="field wallet-site">
          <label for="plans-site">${t('wallet.plans.site')}</label>
          <select id="plans-site" value=${site.id} onChange=${(e) => setSiteID(e.target.value)}>
            ${list.map((s) => html`<option value=${s.id}>${s.name}</option>`)}
          </select>
        </div>`}
      ${site && html`<${SitePlans} key=${site.id} site=${site} sites=${sites.data} />`}
    <//>`;
}
