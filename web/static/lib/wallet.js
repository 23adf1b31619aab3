// What the wallet's pages share (plans, payments, invoices, credits,
// campaigns, qualifications): the sites and their time zones, the way to
// Stripe Checkout and back, the words for the API's refusals, and the
// small navigation between the member's money pages.
import { html, useState, useEffect, useRef } from './ui.js';
import { useApp } from './context.js';
import { ApiError } from './api.js';
import { errorText } from './forms.js';
import { formatDate } from './format.js';

// The zone of what has no site (a network plan, credit usable anywhere)
// and of invoices, whose date is their day in Paris (see the API).
export const parisZone = 'Europe/Paris';

// loadSites reads the sites the member may see, by id.
export async function loadSites(api) {
  const list = await api.get('/v1/sites?limit=200');
  const sites = {};
  for (const s of list.items) {
    sites[s.id] = s;
  }
  return sites;
}

export function zoneOf(sites, siteID) {
  return (siteID && sites[siteID] && sites[siteID].timezone) || parisZone;
}

// useLoad runs load() once and keeps its result: {loading}, {data} or
// {error}; reload() runs it again, keeping the data shown meanwhile.
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ loading: true });
  const run = () => load().then((data) => setState({ data }), (error) => setState((s) => ({ ...s, loading: false, error })));
  useEffect(() => {
    run();
  }, deps);
  return { ...state, reload: run };
}

// useFocusWhen moves the focus into what replaces the button just pressed
// (a form, a confirmation) once shown, so that a keyboard or screen-reader
// user is not left on nothing: the element itself when it takes the focus
// (tabindex), else its first field or button.
export function useFocusWhen(shown) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (shown && el) {
      const target = el.hasAttribute('tabindex') ? el : el.querySelector('input, select, button');
      (target || el).focus();
    }
  }, [shown]);
  return ref;
}

// Codes of the API's problems the pages say in their own words; any other
// problem shows the API's detail (already in the member's language).
const codes = [
  'online_payment_unavailable', 'payment_provider_unavailable', 'price_too_low_for_online_payment',
  'insufficient_credit', 'campaign_not_open', 'nothing_to_pay', 'charges_checkout_pending',
  'selling_site_required', 'membership_not_active',
];

export function walletError(err, t) {
  if (err instanceof ApiError && codes.includes(err.code)) {
    return t(`wallet.error.${err.code}`);
  }
  return errorText(err, t);
}

// Problem shows a failed call in words, announced at once.
export function Problem({ error }) {
  const { t } = useApp();
  if (!error) {
    return null;
  }
  return html`<p class="alert alert--error" role="alert">${walletError(error, t)}</p>`;
}

// Loading and Failed are a list's two other states.
export function Loading() {
  const { t } = useApp();
  return html`<p role="status">${t('loading')}</p>`;
}

const checkoutKey = 'relais.checkout';

// returnURLs are where Stripe sends the member back: the app's return
// pages, absolute as the API requires, saying what was paid for.
export function returnURLs(what) {
  const q = `?for=${encodeURIComponent(what)}`;
  return {
    success_url: `${location.origin}/payments/success${q}`,
    cancel_url: `${location.origin}/payments/cancel${q}`,
  };
}

// goToCheckout remembers what this tab is paying (so that the return page
// can find it) and sends the browser to Stripe's page.
export function goToCheckout(url, remember) {
  try {
    sessionStorage.setItem(checkoutKey, JSON.stringify({ ...remember, at: Date.now() }));
  } catch {
    // Private browsing may refuse storage: the return page then shows the
    // latest payment instead.
  }
  location.assign(url);
}

// rememberedCheckout is what goToCheckout kept, or null.
export function rememberedCheckout() {
  try {
    return JSON.parse(sessionStorage.getItem(checkoutKey) || 'null');
  } catch {
    return null;
  }
}

// BuyerFields asks for the billing address an invoice must carry, when the
// member keeps none on the account. value is {line1, postal_code, city}.
export function BuyerFields({ prefix, value, onInput, fields = {} }) {
  const { t } = useApp();
  const field = (name, label, autocomplete) => {
    const id = `${prefix}-${name}`;
    const error = fields[`buyer.address.${name}`] || (name === 'line1' && fields['buyer.address']);
    return html`
      <div class="field ${error ? 'field--invalid' : ''}">
        <label for=${id}>${label}</label>
        <input id=${id} name=${name} autocomplete=${autocomplete} required value=${value[name]}
          aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? `${id}-error` : undefined}
          onInput=${(e) => onInput({ ...value, [name]: e.target.value })} />
        ${error && html`<p class="field-error" id="${id}-error">${error}</p>`}
      </div>`;
  };
  return html`
    <fieldset class="wallet-fieldset">
      <legend>${t('wallet.buyer.legend')}</legend>
      <p class="hint">${t('wallet.buyer.hint')}</p>
      ${field('line1', t('wallet.buyer.line1'), 'address-line1')}
      ${field('postal_code', t('wallet.buyer.postal_code'), 'postal-code')}
      ${field('city', t('wallet.buyer.city'), 'address-level2')}
    </fieldset>`;
}

export const emptyAddress = { line1: '', postal_code: '', city: '' };

// buyerOf is the checkout's buyer: none when the account keeps a billing
// address (the API uses it), else the address typed, in France.
export function buyerOf(me, address) {
  if (me.billing_address) {
    return undefined;
  }
  return { address: { ...address, country: 'FR' } };
}

// DownloadLink is a link to a file of the API (a PDF, a CSV), opened with
// the session cookie. The access cookie lasts 15 minutes and only the
// app's calls renew it, so a click first makes one call (renewing the
// session when it has expired), then follows the link; a file answered as
// an attachment downloads without leaving the page. A click with a
// modifier (a new tab) is the browser's, as for any link.
export function DownloadLink({ href, children, ...rest }) {
  const { api } = useApp();
  const onClick = async (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
      return;
    }
    e.preventDefault();
    try {
      await api.get('/v1/me');
    } catch {
      // Signed out or offline: the link itself says so.
    }
    location.assign(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

// WalletNav links the member's money pages to one another, so that the
// main navigation keeps few entries on a phone.
export function WalletNav({ current }) {
  const { t } = useApp();
  const links = [
    ['/invoices', 'wallet.nav.invoices'],
    ['/credits', 'wallet.nav.credits'],
    ['/contributions', 'wallet.nav.contributions'],
    ['/qualifications', 'wallet.nav.qualifications'],
  ];
  return html`
    <nav class="wallet-nav" aria-label=${t('wallet.nav.label')}>
      <ul>
        ${links.map(([href, key]) => html`
          <li key=${href}><a href=${href} aria-current=${href === current ? 'page' : undefined}>${t(key)}</a></li>`)}
      </ul>
    </nav>`;
}

// day formats an instant as a date in a zone ("mardi 9 décembre").
export function day(instant, lang, zone) {
  return formatDate(instant, lang, zone);
}

// minutesText: "8 h", "1 h 30", "45 min" (French), "8 h", "1 h 30" too in
// English, which reads them well.
export function minutesText(minutes) {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) {
    return `${m}\u00a0min`;
  }
  return m === 0 ? `${h}\u00a0h` : `${h}\u00a0h\u00a0${String(m).padStart(2, '0')}`;
}
