// What the managers' console shares: the sites the person manages (every
// site for an admin), the one chosen (remembered on this device), the
// console's frame (its navigation and site picker), and local times of a
// site turned into instants.
import { html } from './ui.js';
import { useApp } from './context.js';
import { Page } from './page.js';
import { errorText } from './forms.js';
import { ConsoleNav } from './console-nav.js';
import { SitePicker } from './console-site-picker.js';
import { dateFormat } from './format.js';
import './console-words.js';

// managedSites and useConsoleSite: the console's one site picker
// (lib/console-site-picker.js), under the names these pages know.
export { managedSites } from './console-site-picker.js';
export { useSitePicker as useConsoleSite } from './console-site-picker.js';

// ConsoleFrame is a console page: its heading, the console's navigation,
// the site picker when there are several sites, then the page's content
// (given only once a site is chosen).
export function ConsoleFrame({ title, current, cs, children }) {
  const { t } = useApp();
  return html`
    <${Page} title=${title} wide>
      <${ConsoleNav} current=${current} />
      ${cs.loading && html`<p role="status">${t('loading')}</p>`}
      ${cs.error && html`<p class="alert alert--error" role="alert">${errorText(cs.error, t)}</p>`}
      ${!cs.loading && !cs.error && cs.sites.length === 0 && html`<p class="empty">${t('console.site.none')}</p>`}
      <${SitePicker} state=${cs} />
      ${cs.site && children}
    <//>`;
}

function offsetMinutes(instant, timeZone) {
  const parts = dateFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(instant);
  const g = (type) => Number(parts.find((p) => p.type === type).value);
  return (Date.UTC(g('year'), g('month') - 1, g('day'), g('hour'), g('minute'), g('second')) - instant.getTime()) / 60000;
}

// zonedInstant: the instant of a site's wall-clock day ("2026-12-09") and
// time ("14:30"), whatever the browser's own zone.
export function zonedInstant(day, time, timeZone) {
  const [y, m, d] = day.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let t = wall - offsetMinutes(new Date(wall), timeZone) * 60000;
  t = wall - offsetMinutes(new Date(t), timeZone) * 60000;
  return new Date(t);
}

// wallTime: "14:30" of an instant in the zone, for a form's time field.
export function wallTime(instant, timeZone) {
  return dateFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }).format(new Date(instant));
}

// euros reads "5", "5,50" or "5.5" as cents; NaN when it is not a price.
export function euros(text) {
  const s = String(text).trim().replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(s)) {
    return NaN;
  }
  return Math.round(Number(s) * 100);
}

// Dl is a list of terms and their values.
export function Facts({ items }) {
  return html`<dl class="console-facts">${items.filter(Boolean).map(([k, v]) => html`<div key=${k}><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}
