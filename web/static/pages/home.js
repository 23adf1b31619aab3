// Home: the member's bookings from now on, today's first, each in its
// site's time zone.
import { html, useState, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { errorText } from '../lib/forms.js';
import { formatDate, formatTime, formatTimeRange, dayKey } from '../lib/format.js';
import { Doors, Machines } from './access.js';
import { offlineSince } from '../lib/api.js';

// loadBookings reads the bookings not yet over, and the names and time
// zones of their sites and resources: 1 + 1 + one call per site.
async function loadBookings(api) {
  const from = encodeURIComponent(new Date().toISOString());
  const list = await api.get(`/v1/reservations?from=${from}&status=confirmed,held&limit=50`);
  const sites = {};
  const resources = {};
  if (list.items.length > 0) {
    const siteList = await api.get('/v1/sites?limit=200');
    for (const s of siteList.items) {
      sites[s.id] = s;
    }
    const ids = [...new Set(list.items.map((r) => r.site_id))];
    await Promise.all(ids.map(async (id) => {
      const rs = await api.get(`/v1/sites/${encodeURIComponent(id)}/resources?limit=200`);
      for (const r of rs.items) {
        resources[r.id] = r;
      }
    }));
  }
  return { items: list.items, more: Boolean(list.next_cursor), sites, resources };
}

// groupByDay groups bookings (already in order) by their day in their
// site's zone.
export function groupByDay(items, zoneOf) {
  const groups = [];
  for (const r of items) {
    const key = dayKey(r.start, zoneOf(r));
    const last = groups[groups.length - 1];
    if (last && last.key === key) {
      last.items.push(r);
    } else {
      groups.push({ key, items: [r] });
    }
  }
  return groups;
}

export default function Home() {
  const { t, lang, api, me } = useApp();
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    loadBookings(api).then((data) => setState({ data, offline: offlineSince() }), (error) => setState({ error }));
  }, []);
  const zoneOf = (r) => (state.data.sites[r.site_id] || {}).timezone || 'Europe/Paris';
  return html`
    <${Page} title=${t('home.title', { name: me.name })} wide>
      ${!me.email_verified && html`<p class="alert alert--info">${t('home.unverified')} <a href="/account">${t('home.unverified.link')}</a></p>`}
      ${state.offline && html`<p class="alert alert--info" role="status">${t('shell.offline', {
        date: formatDate(state.offline, lang, Object.values(state.data.sites)[0]?.timezone || 'Europe/Paris'),
        time: formatTime(state.offline, lang, Object.values(state.data.sites)[0]?.timezone || 'Europe/Paris'),
      })}</p>`}
      ${!state.offline && html`<${Doors} />`}
      ${state.data && !state.offline && html`<${Machines} bookings=${state.data.items} resources=${state.data.resources} />`}
      <h2>${t('home.bookings')}</h2>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${state.error && html`<div class="alert alert--error" role="alert">${errorText(state.error, t)}</div>`}
      ${state.data && state.data.items.length === 0 && html`
        <div class="empty">
          <p>${t('home.empty')}</p>
        </div>`}
      ${state.data && groupByDay(state.data.items, zoneOf).map((g) => html`
        <section class="day" aria-labelledby="day-${g.key}">
          <h3 id="day-${g.key}">
            ${g.key === dayKey(new Date(), zoneOf(g.items[0])) ? `${t('home.today')} · ` : ''}${formatDate(g.items[0].start, lang, zoneOf(g.items[0]))}
          </h3>
          <ul class="bookings">
            ${g.items.map((r) => {
              const site = state.data.sites[r.site_id];
              const res = state.data.resources[r.resource_id];
              return html`
                <li class="booking" key=${r.id}>
                  <p class="booking__time">${formatTimeRange(r.start, r.end, lang, zoneOf(r))}</p>
                  <p class="booking__what">${res ? res.name : t('home.resource')}</p>
                  <p class="booking__where">${site ? site.name : ''}</p>
                  ${r.status === 'held' && html`<p class="badge">${t('home.held')}</p>`}
                </li>`;
            })}
          </ul>
        </section>`)}
      ${state.data && state.data.more && html`<p>${t('home.more')}</p>`}
      <p class="home__links"><a href="/bookings">${t('book.home.all')}</a> · <a href="/book">${t('book.home.book')}</a></p>
    <//>`;
}
