// An appointment's slip (/console/appointments/{id}/slip), printed for a
// resident without email: the partner, the day and hour in words in the
// site's zone, the place, the purpose, the documents to bring and the
// video link. Printing keeps the slip alone (app.css, @media print).
import { html, useState, useEffect } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { errorText } from '../../lib/forms.js';
import { ConsoleFrame } from '../../lib/console.js';
import { formatTime } from '../../lib/format.js';
import { addressText } from '../../lib/services.js';
import { siteFor } from '../../lib/console-services.js';

// longDate: "mardi 9 décembre 2026", the year always (a slip stays on a
// fridge).
export function longDate(instant, lang, timeZone) {
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone }).format(new Date(instant));
}

export default function Slip({ params }) {
  const { t, lang, api, me } = useApp();
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    (async () => {
      const a = await api.get(`/v1/appointments/${encodeURIComponent(params.id)}`);
      const [partner, site] = await Promise.all([api.get(`/v1/partners/${encodeURIComponent(a.partner_id)}`), siteFor(api, me, a.site_id)]);
      setState({ a, partner, site });
    })().catch((error) => setState({ error }));
  }, [params.id]);
  const { a, partner, site } = state;
  const cs = { loading: state.loading, error: state.error, sites: site ? [site] : a ? [] : undefined, site };
  return html`
    <${ConsoleFrame} title=${t('servicesapp.slip.title')} current="/console/appointments" cs=${cs}>
      ${a && site && html`
        <p class="no-print"><a href="/console/appointments">${t('servicesapp.slip.back')}</a>
          ${' '}<button class="button" type="button" onClick=${() => window.print()}>${t('servicesapp.slip.print')}</button></p>
        <article class="services-slip" aria-labelledby="slip-who">
          <h2 id="slip-who">${t('servicesapp.slip.with', { partner: partner.name })}</h2>
          ${a.name && html`<p>${t('servicesapp.slip.for', { name: a.name })}</p>`}
          <p class="services-slip__when">${t('servicesapp.slip.when', { date: longDate(a.start, lang, site.timezone), time: formatTime(a.start, lang, site.timezone) })}</p>
          ${a.status === 'cancelled' && html`<p class="alert alert--error">${t('servicesapp.appt.cancelled')}</p>`}
          <p>${t('servicesapp.slip.where', { site: site.name, address: addressText(site.address) })}</p>
          <p>${t('servicesapp.slip.purpose', { purpose: a.purpose })}</p>
          ${a.checklist.length > 0 && html`
            <p>${t('servicesapp.appt.bring')}</p>
            <ul class="services-slip__docs">${a.checklist.map((d) => html`<li key=${d}>${d}</li>`)}</ul>`}
          ${a.video_url && html`<p>${t('servicesapp.slip.video')} <a href=${a.video_url}>${a.video_url}</a></p>`}
          <p class="hint">${t('servicesapp.slip.cancel')}</p>
        </article>`}
      ${state.error && !a && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
    <//>`;
}
