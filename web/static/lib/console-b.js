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

// useSite and SitePicker: the console's one site picker
// (lib/console-site-picker.js), the same site on every page of the console.
export { useSitePicker as useSite, SitePicker } from './console-site-picker.js';

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

// ConsoleNavB: the console's own navigation (lib/console-nav.js), as
// Today, Planning and People show it.
export { ConsoleNav as ConsoleNavB } from './console-nav.js';
