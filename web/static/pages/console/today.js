// Today: a manager's home. The site's figures of the day in words and
// numbers (GET /v1/sites/{site_id}/dashboard, today's and the month's for
// the revenue) and the day's bookings, in the site's time zone.
import { html } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { useLoad, Problem } from '../../lib/wallet.js';
import { formatDate, formatTime, formatTimeRange, formatPrice, dayKey } from '../../lib/format.js';
import { useConsoleSite, ConsoleFrame } from '../../lib/console.js';

const kinds = ['desk', 'room', 'zone', 'machine'];

async function loadToday(api, site) {
  const id = encodeURIComponent(site.id);
  const today = dayKey(new Date(), site.timezone);
  // The machines on now come with the rest, in one call for the site.
  const [day, month, list, resources, sessions] = await Promise.all([
    api.get(`/v1/sites/${id}/dashboard`),
    api.get(`/v1/sites/${id}/dashboard?from=${today.slice(0, 7)}`),
    api.all(`/v1/reservations?site_id=${id}&from=${today}&to=${today}&status=confirmed,held`),
    api.get(`/v1/sites/${id}/resources`),
    api.get(`/v1/sites/${id}/machine-sessions`),
  ]);
  const names = {};
  for (const r of resources.items) {
    names[r.id] = r.name;
  }
  const running = sessions.items;
  return { day, month, bookings: list, names, running };
}

function percent(rate, lang) {
  return new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { style: 'percent', maximumFractionDigits: 0 }).format(rate);
}

function Figures({ site, data }) {
  const { t, lang } = useApp();
  const d = data.day;
  const revenue = data.month.revenue.reduce((sum, r) => sum + r.ttc_cents, 0);
  const occupancy = kinds.map((k) => d.occupancy.find((o) => o.kind === k && o.rate !== null)).filter(Boolean);
  return html`
    <section aria-labelledby="today-figures">
      <h2 id="today-figures">${formatDate(new Date(), lang, site.timezone)}</h2>
      <ul class="console-figures">
        <li class="card"><span class="console-figure">${d.here_now.count}</span> ${t('console.today.here', { n: d.here_now.count })}</li>
        <li class="card"><span class="console-figure">${d.today.arrivals}</span> ${t('console.today.arrivals', { n: d.today.arrivals })}</li>
        <li class="card"><span class="console-figure">${d.today.bookings}</span> ${t('console.today.bookings', { n: d.today.bookings })}</li>
        <li class="card"><span class="console-figure">${formatPrice(revenue, lang)}</span> ${t('console.today.revenue')}</li>
        <li class="card"><span class="console-figure">${d.devices_offline.length}</span> ${t('console.today.offline', { n: d.devices_offline.length })}</li>
        <li class="card"><span class="console-figure">${d.waiting_list_entries_open}</span> ${t('console.today.waiting', { n: d.waiting_list_entries_open })}</li>
        <li class="card"><span class="console-figure">${d.machine_hours.toLocaleString(lang === 'en' ? 'en-GB' : 'fr-FR')}</span> ${t('console.today.machines')}</li>
      </ul>
      <h3>${t('console.today.occupancy')}</h3>
      ${occupancy.length === 0
        ? html`<p>${t('console.today.closed')}</p>`
        : html`<ul class="console-list">${occupancy.map((o) => html`
            <li key=${o.kind}>${t(`console.kind.${o.kind}`)}${t('console.colon')}${percent(o.rate, lang)} ${t('console.today.hours', {
              booked: o.booked_hours.toLocaleString(lang === 'en' ? 'en-GB' : 'fr-FR'), open: o.open_hours.toLocaleString(lang === 'en' ? 'en-GB' : 'fr-FR') })}</li>`)}
          </ul>`}
      <h3>${t('console.today.running')}</h3>
      ${data.running.length === 0
        ? html`<p>${t('console.today.running.none')}</p>`
        : html`<ul class="console-list">${data.running.map((m) => html`
            <li key=${m.id}>${data.names[m.resource_id] || ''} · ${t('console.today.running.until', { time: formatTime(m.ends_at, lang, site.timezone) })}</li>`)}</ul>`}
      ${d.here_now.people.length > 0 && html`
        <h3>${t('console.today.here_list')}</h3>
        <ul class="console-list">${d.here_now.people.map((x) => html`
          <li key=${x.user_id}><a href="/console/people/${encodeURIComponent(x.user_id)}">${x.name}</a> · ${t('console.today.seen', { time: formatTime(x.last_seen_at, lang, site.timezone) })}</li>`)}</ul>`}
      ${d.devices_offline.length > 0 && html`
        <h3>${t('console.today.offline_list')}</h3>
        <ul class="console-list">${d.devices_offline.map((v) => html`<li key=${v.id}>${v.name}</li>`)}</ul>`}
    </section>`;
}

function DaySummary({ site, data }) {
  const { t, lang } = useApp();
  return html`
    <section aria-labelledby="today-planning">
      <h2 id="today-planning">${t('console.today.planning')}</h2>
      ${data.bookings.length === 0 && html`<p class="empty">${t('console.today.nobooking')}</p>`}
      ${data.bookings.length > 0 && html`
        <ul class="console-list">
          ${data.bookings.map((r) => html`
            <li key=${r.id}>${formatTimeRange(r.start, r.end, lang, site.timezone)} · ${data.names[r.resource_id] || ''} · ${r.kind === 'block' ? t('console.planning.block') : (r.user_name || '')}</li>`)}
        </ul>`}
      <p><a href="/console/planning">${t('console.today.toplanning')}</a></p>
    </section>`;
}

function TodayOf({ site }) {
  const { t, api } = useApp();
  const s = useLoad(() => loadToday(api, site), [site.id]);
  return html`
    ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
    <${Problem} error=${s.error} />
    ${s.data && html`<${Figures} site=${site} data=${s.data} /><${DaySummary} site=${site} data=${s.data} />`}`;
}

export default function Today() {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('console.today.title')} current="/console" cs=${cs}>
      ${cs.site && html`<${TodayOf} key=${cs.site.id} site=${cs.site} />`}
    <//>`;
}
