// The pages Stripe Checkout sends the member back to. Stripe's return
// only means the member left its page: the payment is recorded when
// Stripe's webhook reaches the API, so the success page asks a few times
// and shows the payment (and what it bought) once it is there.
import { html, useState, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice } from '../lib/format.js';
import { rememberedCheckout, loadSites, zoneOf, day, Problem, DownloadLink } from '../lib/wallet.js';

const tries = 8;
const pause = 1500;

// findPayment is the payment this tab went to pay (else the newest), and
// what it bought when it has succeeded.
async function findPayment(api, remembered) {
  const list = await api.get('/v1/me/payments');
  const pay = remembered && remembered.payment_id
    ? list.items.find((p) => p.id === remembered.payment_id)
    : list.items[0];
  if (!pay || pay.status !== 'succeeded') {
    return { pay, done: false };
  }
  // What it bought: the membership, day pass or pack it paid for.
  let membership = null;
  let pass = null;
  let pack = null;
  if (pay.target_id) {
    const h = await api.get('/v1/me/memberships');
    membership = h.memberships.find((m) => m.id === pay.target_id) || null;
    pass = h.day_passes.find((d) => d.id === pay.target_id) || null;
    pack = h.packs.find((k) => k.id === pay.target_id) || null;
  }
  let plan = null;
  if (pay.plan_id) {
    plan = await api.get(`/v1/plans/${encodeURIComponent(pay.plan_id)}`).catch(() => null);
  }
  return { pay, membership, pass, pack, plan, sites: await loadSites(api), done: true };
}

async function findContribution(api, remembered) {
  const list = await api.get('/v1/me/contributions');
  const c = remembered && remembered.contribution_id
    ? list.items.find((x) => x.id === remembered.contribution_id)
    : list.items[0];
  return { contribution: c, done: Boolean(c) && c.status === 'paid' };
}

function usePolling(find) {
  const [state, setState] = useState({ waiting: true });
  useEffect(() => {
    let stopped = false;
    (async () => {
      for (let i = 0; i < tries && !stopped; i++) {
        try {
          const found = await find();
          if (found.done) {
            setState({ found });
            return;
          }
        } catch (error) {
          setState({ error });
          return;
        }
        await new Promise((r) => setTimeout(r, pause));
      }
      if (!stopped) {
        setState({ late: true });
      }
    })();
    return () => {
      stopped = true;
    };
  }, []);
  return state;
}

function PaidPayment({ found }) {
  const { t, lang } = useApp();
  const { pay, membership, pass, pack, plan, sites } = found;
  const zone = zoneOf(sites, pay.site_id);
  return html`
    <div class="card">
      <p class="alert alert--success">${t('wallet.success.paid', { amount: formatPrice(pay.amount_cents, lang), date: day(pay.paid_at, lang, zone) })}</p>
      ${plan && html`<p>${t('wallet.success.for', { plan: plan.name })}</p>`}
      ${membership && membership.current_period_end && html`
        <p>${t('wallet.membership.renews', { date: day(membership.current_period_end, lang, zoneOf(sites, membership.site_id)) })}</p>`}
      ${pass && html`<p>${t('wallet.holdings.pass', { date: day(pass.start, lang, zoneOf(sites, pass.site_id)) })}</p>`}
      ${pack && html`<p>${t('wallet.holdings.until', { date: day(pack.valid_until, lang, zoneOf(sites, pack.site_id)) })}</p>`}
      ${pay.invoice_id && html`<p><${DownloadLink} href=${`/v1/invoices/${pay.invoice_id}/pdf`}>${t('wallet.success.invoice')}<//></p>`}
      <p><a href="/plans">${t('wallet.success.plans')}</a> · <a href="/invoices">${t('wallet.success.invoices')}</a></p>
    </div>`;
}

export function PaymentSuccess({ query }) {
  const { t, lang, api, announce } = useApp();
  const what = query.get('for') || 'plan';
  const remembered = rememberedCheckout();
  const state = usePolling(() => (what === 'contribution' ? findContribution(api, remembered) : findPayment(api, remembered)));
  const title = state.found ? t('wallet.success.title_done') : t('wallet.success.title');
  useEffect(() => {
    if (state.found) {
      announce(t('wallet.success.title_done'));
    }
  }, [state.found]);
  return html`
    <${Page} title=${title}>
      ${state.waiting && html`<p role="status">${t('wallet.success.waiting')}</p>`}
      <${Problem} error=${state.error} />
      ${state.late && html`<p class="alert alert--info" role="status">${t('wallet.success.late')}</p>
        <p><a href=${what === 'contribution' ? '/contributions' : '/invoices'}>${t('wallet.success.later')}</a></p>`}
      ${state.found && what !== 'contribution' && html`<${PaidPayment} found=${state.found} />`}
      ${state.found && what === 'contribution' && html`
        <div class="card">
          <p class="alert alert--success">${t('wallet.success.contribution', { amount: formatPrice(state.found.contribution.amount_cents, lang) })}</p>
          <p><${DownloadLink} href=${`/v1/contributions/${state.found.contribution.id}/receipt.pdf`}>${t('wallet.contrib.receipt')}<//></p>
          <p><a href="/contributions">${t('wallet.nav.contributions')}</a></p>
        </div>`}
    <//>`;
}

export function PaymentCancel({ query }) {
  const { t } = useApp();
  const what = query.get('for') || 'plan';
  const remembered = rememberedCheckout();
  let back = '/plans';
  if (what === 'charges') {
    back = '/invoices';
  } else if (what === 'contribution' && remembered && remembered.campaign_id) {
    back = `/campaigns/${encodeURIComponent(remembered.campaign_id)}`;
  }
  return html`
    <${Page} title=${t('wallet.cancelpage.title')}>
      <p>${t('wallet.cancelpage.text')}</p>
      <p><a class="button" href=${back}>${t('wallet.cancelpage.back')}</a></p>
    <//>`;
}
