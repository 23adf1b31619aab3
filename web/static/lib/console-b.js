// What the console's money, devices, resources and plans pages share: the
// site being managed (a picker for managers of several sites), the API's
// refusals in words, and small helpers for dates in the site's zone.
import { html, useState, useEffect } from './ui.js';
import { useApp } from './context.js';
import { ApiError } from './api.js';
import { errorText } from './forms.js';
import { useLoad } from './wallet.js';
import './console-words.js';

export { useLoad };

// The same key as the console's Today, Planning and People (lib/console.js):
// one site chosen for the whole console, remembered on the device.
const siteKey = 'relais.console.site';

// managedSites: the sites this person runs. An admin runs them all; a
// manager only those of me.managed_site_ids (the API refuses the others
// anyway: this keeps the picker to what can be opened).
async function managedSites(api, me) {
  const list = await api.get('/v1/sites?limit=200');
  if (me.role === 'admin') {
    return list.items;
  }
  const mine = new Set(me.managed_site_ids || []);
  return list.items.filter((s) => mine.has(s.id));
}

function remembered() {
  try {
    return localStorage.getItem(siteKey) || '';
  } catch {
    return '';
  }
}

function remember(id) {
  try {
    localStorage.setItem(siteKey, id);
  } catch {
    // Private browsing may refuse storage: the choice lasts this page.
  }
}

// useSite loads the managed sites and keeps the one chosen, the same on
// every page of the console during this visit.
export function useSite() {
  const { api, me } = useApp();
  const s = useLoad(() => managedSites(api, me), [me && me.id]);
  const [chosen, setChosen] = useState(remembered);
  const sites = s.data || [];
  const site = sites.find((x) => x.id === chosen) || sites[0] || null;
  const choose = (id) => {
    remember(id);
    setChosen(id);
  };
  return { loading: !s.data && !s.error, error: s.error, sites, site, choose };
}

// SitePicker shows a select when there is more than one site, and the
// site's name otherwise.
export function SitePicker({ state }) {
  const { t } = useApp();
  if (state.sites.length <= 1) {
    return state.site ? html`<p class="consoleb-site">${t('consoleb.site.one', { name: state.site.name })}</p>` : null;
  }
  return html`
    <div class="field consoleb-site">
      <label for="consoleb-site">${t('consoleb.site.label')}</label>
      <select id="consoleb-site" value=${state.site ? state.site.id : ''} onChange=${(e) => state.choose(e.target.value)}>
        ${state.sites.map((x) => html`<option key=${x.id} value=${x.id}>${x.name}</option>`)}
      </select>
    </div>`;
}

// SiteGate renders children(site) once a site is known, else what is
// going on: loading, a failure, or no site to manage.
export function SiteGate({ state, children }) {
  const { t } = useApp();
  if (state.loading) {
    return html`<p role="status">${t('loading')}</p>`;
  }
  if (state.error) {
    return html`<${Problem} error=${state.error} />`;
  }
  if (!state.site) {
    return html`<p class="empty">${t('consoleb.site.none')}</p>`;
  }
  return children(state.site);
}

// Codes of the API's problems said in the console's words; any other
// problem shows the API's detail (already in the reader's language).
const codes = [
  'period_not_over', 'period_not_closed', 'device_offline', 'device_timeout', 'device_error', 'device_busy',
  'device_address_taken', 'not_refundable', 'entity_wide_export', 'device_retired',
];

export function consoleError(err, t) {
  if (err instanceof ApiError && codes.includes(err.code)) {
    return t(`consoleb.error.${err.code}`);
  }
  return errorText(err, t);
}

export function Problem({ error }) {
  const { t } = useApp();
  if (!error) {
    return null;
  }
  return html`<p class="alert alert--error" role="alert">${consoleError(error, t)}</p>`;
}

// localDay: "2026-12-06" in the zone; localMonth: "2026-12".
export function localDay(date, timeZone) {
  return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone }).format(new Date(date));
}

// zoneOffset: the zone's offset from UTC at that instant, in minutes.
function zoneOffset(instant, timeZone) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(instant)) {
    parts[p.type] = p.value;
  }
  const asUTC = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((asUTC - instant.getTime()) / 60000);
}

// midnight: the instant a local date ("2026-12-06") starts in the zone,
// as RFC 3339 (for the API's from and to).
export function midnight(day, timeZone) {
  const [y, m, d] = day.split('-').map(Number);
  const guess = new Date(Date.UTC(y, m - 1, d));
  // Twice: the offset at the guess may differ from the one at midnight.
  let t = guess.getTime() - zoneOffset(guess, timeZone) * 60000;
  t = guess.getTime() - zoneOffset(new Date(t), timeZone) * 60000;
  return new Date(t).toISOString();
}

// nextDay: the local date after day.
export function nextDay(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

// monthBounds: the first day of a month "2026-12" and of the next.
export function monthBounds(month) {
  const [y, m] = month.split('-').map(Number);
  const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
  return [`${month}-01`, `${next}-01`];
}

// previousMonth: "2026-11" for "2026-12".
export function previousMonth(month) {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 7);
}

// useNow: the date of today, fixed for the page's life.
export function useToday(timeZone) {
  const [today, setToday] = useState(() => localDay(new Date(), timeZone));
  useEffect(() => setToday(localDay(new Date(), timeZone)), [timeZone]);
  return today;
}

// ConsoleNavB: the console's own navigation (lib/console-nav.js, which
// holds these pages' entries too), as Today, Planning and People show it.
import { consoleNav } from './console-nav.js';

export function ConsoleNavB({ current }) {
  const { t } = useApp();
  return html`
    <nav class="console-nav" aria-label=${t('console.nav.label')}>
      <ul>
        ${consoleNav.map((n) => html`<li key=${n.path}><a href=${n.path} aria-current=${n.path === current ? 'page' : undefined}>${t(n.label)}</a></li>`)}
      </ul>
    </nav>`;
}
