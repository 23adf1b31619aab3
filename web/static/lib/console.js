// What the managers' console shares: the sites the person manages (every
// site for an admin), the one chosen (remembered on this device), the
// console's frame (its navigation and site picker), and local times of a
// site turned into instants.
import { html, useState, useEffect } from './ui.js';
import { useApp } from './context.js';
import { Page } from './page.js';
import { errorText } from './forms.js';
import { consoleNav } from './console-nav.js';
import { dateFormat } from './format.js';
import './console-words.js';

const siteKey = 'relais.console.site';

function rememberedSite() {
  try {
    return localStorage.getItem(siteKey);
  } catch {
    return null;
  }
}

function rememberSite(id) {
  try {
    localStorage.setItem(siteKey, id);
  } catch {
    // Private browsing may refuse storage: the choice lasts this page.
  }
}

// managedSites: the sites whose console me may open. The API decides
// again on every call; this only keeps other sites out of the picker.
export async function managedSites(api, me) {
  const list = await api.get('/v1/sites?limit=200');
  const ids = me.managed_site_ids || [];
  return list.items.filter((s) => me.role === 'admin' || ids.includes(s.id));
}

// useConsoleSite: {sites, site, choose} once loaded, or {error}.
export function useConsoleSite() {
  const { api, me } = useApp();
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    managedSites(api, me).then((sites) => {
      const want = rememberedSite();
      setState({ sites, site: sites.find((s) => s.id === want) || sites[0] || null });
    }, (error) => setState({ error }));
  }, []);
  const choose = (id) => {
    rememberSite(id);
    setState((s) => ({ ...s, site: s.sites.find((x) => x.id === id) || s.site }));
  };
  return { ...state, choose };
}

// ConsoleFrame is a console page: its heading, the console's navigation,
// the site picker when there are several sites, then the page's content
// (given only once a site is chosen).
export function ConsoleFrame({ title, current, cs, children }) {
  const { t } = useApp();
  return html`
    <${Page} title=${title} wide>
      <nav class="console-nav" aria-label=${t('console.nav.label')}>
        <ul>
          ${consoleNav.map((e) => html`
            <li key=${e.path}><a href=${e.path} aria-current=${e.path === current ? 'page' : undefined}>${t(e.label)}</a></li>`)}
        </ul>
      </nav>
      ${cs.loading && html`<p role="status">${t('loading')}</p>`}
      ${cs.error && html`<p class="alert alert--error" role="alert">${errorText(cs.error, t)}</p>`}
      ${cs.sites && cs.sites.length === 0 && html`<p class="empty">${t('console.site.none')}</p>`}
      ${cs.sites && cs.sites.length > 1 && html`
        <div class="field console-site">
          <label for="console-site">${t('console.site.label')}</label>
          <select id="console-site" value=${cs.site.id} onChange=${(e) => cs.choose(e.target.value)}>
            ${cs.sites.map((s) => html`<option key=${s.id} value=${s.id}>${s.name}</option>`)}
          </select>
        </div>`}
      ${cs.sites && cs.sites.length === 1 && html`<p class="console-sitename">${t('console.site.one', { name: cs.site.name })}</p>`}
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
