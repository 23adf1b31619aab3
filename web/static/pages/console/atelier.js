// An atelier (/console/ateliers/{id}): its sessions, each with who is
// registered (confirmed, then waiting in order) and the link to its
// attendance sheet; registering someone, found by name or registered in
// place as a guest, for every session or one; cancelling a registration.
import { html, useState, useEffect } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { errorText } from '../../lib/forms.js';
import { ConsoleFrame } from '../../lib/console.js';
import { formatPrice } from '../../lib/format.js';
import { sessionWhen, seatsText, atelierPrice } from '../../lib/services.js';
import { siteFor, PersonPicker } from '../../lib/console-services.js';

export function useAtelier(id) {
  const { api, me } = useApp();
  const [state, setState] = useState({ loading: true });
  const load = async () => {
    try {
      const a = await api.get(`/v1/ateliers/${encodeURIComponent(id)}`);
      const [site, regs] = await Promise.all([siteFor(api, me, a.site_id), api.get(`/v1/ateliers/${encodeURIComponent(id)}/registrations`)]);
      setState({ a, site, regs: regs.items });
    } catch (error) {
      setState({ error });
    }
  };
  useEffect(() => {
    load();
  }, [id]);
  return { ...state, reload: load };
}

function Register({ a, site, reload }) {
  const { t, lang, api, announce } = useApp();
  const [session, setSession] = useState('all');
  const [state, setState] = useState({ busy: false, error: null });
  const now = new Date();
  const open = a.sessions.filter((s) => s.status === 'scheduled' && new Date(s.start) > now);
  const pick = async (person) => {
    setState({ busy: true, error: null });
    try {
      const body = { user_id: person.id };
      if (session !== 'all') {
        body.session_ids = [session];
      }
      const made = await api.post(`/v1/ateliers/${encodeURIComponent(a.id)}/registrations`, body, { idempotent: true });
      const waiting = made.items.filter((r) => r.status === 'waitlisted').length;
      announce(t(waiting ? 'servicesapp.console.registered.waiting' : 'servicesapp.console.registered', { name: person.name }));
      setState({ busy: false, error: null, done: t(waiting ? 'servicesapp.console.registered.waiting' : 'servicesapp.console.registered', { name: person.name }) });
      reload();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  if (open.length === 0) {
    return null;
  }
  return html`
    <section aria-labelledby="atelier-register">
      <h2 id="atelier-register">${t('servicesapp.console.register')}</h2>
      <div class="field">
        <label for="register-session">${t('servicesapp.console.register.session')}</label>
        <select id="register-session" value=${session} onChange=${(e) => setSession(e.target.value)}>
          <option value="all">${t('servicesapp.console.register.all')}</option>
          ${open.map((s) => html`<option key=${s.id} value=${s.id}>${sessionWhen(s, lang, site.timezone)}</option>`)}
        </select>
      </div>
      ${state.error && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
      ${state.done && html`<p class="alert alert--success">${state.done}</p>`}
      <${PersonPicker} site=${site} label=${t('servicesapp.console.register.do')} onPick=${pick} busy=${state.busy} />
    </section>`;
}

function Sessions({ a, site, regs, reload }) {
  const { t, lang, api, announce } = useApp();
  const [error, setError] = useState(null);
  const cancel = async (r) => {
    setError(null);
    try {
      await api.del(`/v1/atelier-registrations/${encodeURIComponent(r.id)}`);
      announce(t('servicesapp.console.unregistered', { name: r.name || '' }));
      reload();
    } catch (e) {
      setError(e);
    }
  };
  return html`
    <section aria-labelledby="atelier-sessions">
      <h2 id="atelier-sessions">${t('servicesapp.console.sessions.title')}</h2>
      ${error && html`<p class="alert alert--error" role="alert">${errorText(error, t)}</p>`}
      ${a.sessions.map((s) => {
        const here = regs.filter((r) => r.session_id === s.id && r.status !== 'cancelled');
        const when = sessionWhen(s, lang, site.timezone);
        return html`
          <div class="card services-session-card" key=${s.id}>
            <h3>${when}</h3>
            <p>${seatsText(s, t)}${s.status === 'scheduled' ? html` · <a href="/console/ateliers/${encodeURIComponent(a.id)}/sessions/${encodeURIComponent(s.id)}">${t('servicesapp.console.sheet')}</a>` : ''}</p>
            ${here.length === 0 && html`<p class="empty">${t('servicesapp.console.nobody')}</p>`}
            ${here.length > 0 && html`
              <ul class="console-list">
                ${here.map((r) => html`
                  <li key=${r.id}>
                    ${r.name} · ${r.status === 'waitlisted' ? t('servicesapp.reg.waitlisted') : t(r.attendance ? `servicesapp.att.${r.attendance}` : 'servicesapp.reg.confirmed')}
                    ${new Date(s.start) > new Date() && html` <button class="button button--secondary" type="button" aria-label=${t('servicesapp.console.unregister.label', { name: r.name || '', when })}
                      onClick=${() => cancel(r)}>${t('servicesapp.console.unregister')}</button>`}
                  </li>`)}
              </ul>`}
          </div>`;
      })}
    </section>`;
}

export default function ConsoleAtelier({ params }) {
  const { t, lang } = useApp();
  const st = useAtelier(params.id);
  const title = st.a ? st.a.title : t('servicesapp.console.atelier');
  const cs = { loading: st.loading, error: st.error, sites: st.site ? [st.site] : st.a ? [] : undefined, site: st.site };
  return html`
    <${ConsoleFrame} title=${title} current="/console/ateliers" cs=${cs}>
      ${st.a && st.site && html`
        <p><a href="/console/ateliers">${t('servicesapp.console.back')}</a></p>
        <p>${atelierPrice(st.a, t, formatPrice, lang)} · ${t(`servicesapp.audience.${st.a.audience}`)} · ${t('servicesapp.console.seats.n', { n: st.a.seats })}</p>
        <${Sessions} a=${st.a} site=${st.site} regs=${st.regs} reload=${st.reload} />
        <${Register} a=${st.a} site=${st.site} reload=${st.reload} />`}
    <//>`;
}
