// My ateliers and appointments (/services): the ateliers a member is
// registered for (or waiting for, with their place), and their
// appointments with public services: partner, purpose, time in the site's
// zone, place, video link and the documents to bring; both cancelled from
// here. Links to each site's agenda and to booking an appointment; a
// partner's agent finds the link to their day (/partner) here too.
import { html, useState, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { errorText } from '../lib/forms.js';
import { sessionWhen, registrationText, addressText, sitesById } from '../lib/services.js';

function Registrations({ data, act, busy }) {
  const { t, lang } = useApp();
  const { regs, ateliers, sites } = data;
  return html`
    <section aria-labelledby="my-ateliers">
      <h2 id="my-ateliers">${t('servicesapp.mine.ateliers')}</h2>
      ${regs.length === 0 && html`<p class="empty">${t('servicesapp.mine.ateliers.none')}</p>`}
      <ul class="services-list">
        ${regs.map((r) => {
          const a = ateliers[r.atelier_id];
          const s = a && a.sessions.find((x) => x.id === r.session_id);
          const site = a && sites[a.site_id];
          if (!a || !s || !site) {
            return null;
          }
          const when = sessionWhen(s, lang, site.timezone);
          return html`
            <li key=${r.id} class="card">
              <h3>${a.title}</h3>
              <p>${when} · ${site.name}</p>
              <p><span class="badge ${r.status === 'confirmed' ? 'badge--ok' : ''}">${registrationText(r, t)}</span></p>
              <button class="button button--secondary" type="button" disabled=${busy} aria-label=${t('servicesapp.agenda.cancel.label', { when })}
                onClick=${() => act(`/v1/atelier-registrations/${encodeURIComponent(r.id)}`, 'del', t('servicesapp.agenda.cancelled', { title: a.title }))}>
                ${t('servicesapp.agenda.cancel')}</button>
            </li>`;
        })}
      </ul>
    </section>`;
}

function Appointments({ data, act, busy }) {
  const { t, lang } = useApp();
  const { appts, partners, sites } = data;
  return html`
    <section aria-labelledby="my-appointments">
      <h2 id="my-appointments">${t('servicesapp.mine.appointments')}</h2>
      <p><a class="button" href="/appointments/new">${t('servicesapp.mine.book')}</a></p>
      ${appts.length === 0 && html`<p class="empty">${t('servicesapp.mine.appointments.none')}</p>`}
      <ul class="services-list">
        ${appts.map((a) => {
          const site = sites[a.site_id] || { name: '', timezone: 'Europe/Paris' };
          const when = sessionWhen(a, lang, site.timezone);
          const coming = a.status === 'confirmed' && new Date(a.start) > new Date();
          return html`
            <li key=${a.id} class="card">
              <h3>${t('servicesapp.appt.title', { partner: partners[a.partner_id] || t('servicesapp.partner'), purpose: a.purpose })}</h3>
              <p>${when}</p>
              <p>${site.name}${site.address ? `, ${addressText(site.address)}` : ''}</p>
              ${a.status === 'cancelled' && html`<p><span class="badge">${t('servicesapp.appt.cancelled')}</span></p>`}
              ${a.video_url && a.status === 'confirmed' && html`<p><a href=${a.video_url} rel="noopener">${t('servicesapp.appt.video')}</a></p>`}
              ${a.checklist.length > 0 && html`
                <p>${t('servicesapp.appt.bring')}</p>
                <ul>${a.checklist.map((d) => html`<li key=${d}>${d}</li>`)}</ul>`}
              ${coming && html`
                <button class="button button--secondary" type="button" disabled=${busy} aria-label=${t('servicesapp.appt.cancel.label', { when })}
                  onClick=${() => act(`/v1/appointments/${encodeURIComponent(a.id)}/cancel`, 'post', t('servicesapp.appt.cancelled.said'))}>
                  ${t('servicesapp.appt.cancel')}</button>`}
            </li>`;
        })}
      </ul>
    </section>`;
}

export default function Services() {
  const { t, api, announce } = useApp();
  const [state, setState] = useState({ loading: true });
  const [act, setAct] = useState({ busy: false, error: null });
  const load = async () => {
    try {
      const [regs, appts, partners, sites, agencies] = await Promise.all([
        api.get('/v1/me/atelier-registrations'), api.get('/v1/me/appointments'), api.get('/v1/partners'), sitesById(api), api.get('/v1/me/partners'),
      ]);
      const ids = [...new Set(regs.items.map((r) => r.atelier_id))];
      // An atelier by invitation is not public: its registration is left
      // out rather than the whole page failing.
      const ateliers = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await api.get(`/v1/ateliers/${encodeURIComponent(id)}`).catch(() => null)])));
      setState({
        data: {
          regs: regs.items, ateliers, sites, appts: appts.items, partners: Object.fromEntries(partners.items.map((p) => [p.id, p.name])), agencies: agencies.items,
        },
      });
    } catch (error) {
      setState({ error });
    }
  };
  useEffect(() => {
    load();
  }, []);
  const run = async (path, method, said) => {
    setAct({ busy: true, error: null });
    try {
      await (method === 'del' ? api.del(path) : api.post(path, {}));
      announce(said);
      setAct({ busy: false, error: null });
      load();
    } catch (error) {
      setAct({ busy: false, error });
    }
  };
  const d = state.data;
  return html`
    <${Page} title=${t('servicesapp.mine.title')}>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${state.error && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
      ${act.error && html`<p class="alert alert--error" role="alert">${errorText(act.error, t)}</p>`}
      ${d && d.agencies.length > 0 && html`
        <p class="alert alert--info"><a href="/partner">${t('servicesapp.mine.agent', { names: d.agencies.map((p) => p.name).join(', ') })}</a></p>`}
      ${d && html`
        <${Registrations} data=${d} act=${run} busy=${act.busy} />
        <${Appointments} data=${d} act=${run} busy=${act.busy} />
        <section aria-labelledby="agendas">
          <h2 id="agendas">${t('servicesapp.mine.agendas')}</h2>
          <ul>${Object.values(d.sites).map((s) => html`<li key=${s.id}><a href="/ateliers/${encodeURIComponent(s.id)}">${t('servicesapp.agenda.title.site', { name: s.name })}</a></li>`)}</ul>
        </section>`}
    <//>`;
}
