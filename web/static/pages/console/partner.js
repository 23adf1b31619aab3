// A partner's day (/partner), for its agents (an agent of the CAF at the
// other end of the visio-guichet, a France Travail adviser on a
// permanence): the day's appointments of the partners they act for, each
// with the resident's name, the time in the site's zone, the purpose and
// the documents asked, the video room; the outcome and a note once it has
// started. Nothing else of members: the API shows an agent their
// partner's appointments only.
import { html, useState, useEffect } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Page } from '../../lib/page.js';
import { errorText } from '../../lib/forms.js';
import { formatTimeRange, dayKey } from '../../lib/format.js';
import { sitesById, isoDay } from '../../lib/services.js';
import { Outcome } from './appointments.js';
import '../../lib/console-words.js';

function Day({ partner, date, sites }) {
  const { t, lang, api } = useApp();
  const [state, setState] = useState({ loading: true });
  const load = () => api.get(`/v1/partners/${encodeURIComponent(partner.id)}/appointments?date=${date}`).then((l) => setState({ items: l.items }), (error) => setState({ error }));
  useEffect(() => {
    load();
  }, [partner.id, date]);
  const now = new Date();
  return html`
    <section aria-labelledby="day-${partner.id}">
      <h2 id="day-${partner.id}">${partner.name}</h2>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${state.error && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
      ${state.items && state.items.length === 0 && html`<p class="empty">${t('servicesapp.desk.none')}</p>`}
      <ul class="services-list">
        ${(state.items || []).map((a) => {
          const site = sites[a.site_id] || { name: '', timezone: 'Europe/Paris' };
          return html`
            <li key=${a.id} class="card">
              <h3>${formatTimeRange(a.start, a.end, lang, site.timezone)} · ${a.name || ''}</h3>
              <p>${a.purpose} · ${site.name}${a.status === 'cancelled' ? ` · ${t('servicesapp.appt.cancelled')}` : ''}</p>
              ${a.checklist.length > 0 && html`<p class="hint">${t('servicesapp.book.bring', { list: a.checklist.join(', ') })}</p>`}
              ${a.video_url && a.status === 'confirmed' && html`<p><a href=${a.video_url} rel="noopener">${t('servicesapp.appt.video')}</a></p>`}
              ${a.outcome && html`<p><span class="badge badge--ok">${t(`servicesapp.outcome.${a.outcome}`)}</span>${a.outcome_note ? ` ${a.outcome_note}` : ''}</p>`}
              ${a.status === 'confirmed' && new Date(a.start) <= now && html`<${Outcome} a=${a} withNote onDone=${load} />`}
            </li>`;
        })}
      </ul>
    </section>`;
}

export default function PartnerDay() {
  const { t, api } = useApp();
  const [state, setState] = useState({ loading: true });
  const [date, setDate] = useState(isoDay(new Date()));
  useEffect(() => {
    Promise.all([api.get('/v1/me/partners'), sitesById(api)]).then(([p, sites]) => {
      // Today where the partner receives (its site's zone, else the
      // network's first site's), not on the agent's own computer.
      const home = p.items.map((x) => sites[x.site_id]).find(Boolean) || Object.values(sites)[0];
      if (home) {
        setDate(dayKey(new Date(), home.timezone));
      }
      setState({ partners: p.items, sites });
    }, (error) => setState({ error }));
  }, []);
  return html`
    <${Page} title=${t('servicesapp.partner.title')} wide>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${state.error && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
      ${state.partners && state.partners.length === 0 && html`<p class="empty">${t('servicesapp.partner.none')}</p>`}
      ${state.partners && state.partners.length > 0 && html`
        <div class="field">
          <label for="partner-date">${t('servicesapp.desk.date')}</label>
          <input id="partner-date" type="date" value=${date} onInput=${(e) => /^\d{4}-\d{2}-\d{2}$/.test(e.target.value) && setDate(e.target.value)} />
        </div>
        ${state.partners.map((p) => html`<${Day} key=${p.id} partner=${p} date=${date} sites=${state.sites} />`)}`}
    <//>`;
}
