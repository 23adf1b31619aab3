// The public agenda of a site's ateliers (/ateliers/{site_id}): the page a
// town's website links to, open signed out. Each atelier with its
// sessions in the site's zone and the seats left, and the iCal feed; a
// member signed in registers, cancels, and sees their place on a waiting
// list.
import { html, useState, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { errorText } from '../lib/forms.js';
import { formatPrice } from '../lib/format.js';
import { sessionWhen, seatsText, registrationText, atelierPrice, addressText } from '../lib/services.js';

function Session({ a, s, reg, tz, busy, act }) {
  const { t, lang, me } = useApp();
  const when = sessionWhen(s, lang, tz);
  const open = s.status === 'scheduled' && new Date(s.start) > new Date();
  let action = null;
  if (me && open && reg) {
    action = html`<button class="button button--secondary" type="button" disabled=${busy}
      aria-label=${t('servicesapp.agenda.cancel.label', { when })}
      onClick=${() => act(() => reg.id, 'cancel')}>${t('servicesapp.agenda.cancel')}</button>`;
  } else if (me && open) {
    action = html`<button class="button" type="button" disabled=${busy}
      aria-label=${t('servicesapp.agenda.register.label', { when })}
      onClick=${() => act(() => [s.id], 'register')}>${t('servicesapp.agenda.register')}</button>`;
  }
  return html`
    <li class="services-session">
      <span class="services-session__when">${when}</span>
      <span>${seatsText(s, t)}</span>
      ${reg && html`<span class="badge ${reg.status === 'confirmed' ? 'badge--ok' : ''}">${registrationText(reg, t)}</span>`}
      ${action}
    </li>`;
}

// Refusal says why a registration failed. What the person can do about
// a price (their credit, a plan) is said in their words, with the page
// where they do it.
function Refusal({ error, a }) {
  const { t, lang } = useApp();
  if (error.code === 'not_enough_credit') {
    return html`<p class="alert alert--error" role="alert">
      ${t('servicesapp.agenda.not_enough_credit', { amount: formatPrice(a.credit_cents, lang) })}
      ${' '}<a href="/credits">${t('servicesapp.agenda.see_credits')}</a></p>`;
  }
  if (error.code === 'plan_required') {
    return html`<p class="alert alert--error" role="alert">
      ${t('servicesapp.agenda.plan_required')}
      ${' '}<a href="/plans">${t('servicesapp.agenda.see_plans')}</a></p>`;
  }
  return html`<p class="alert alert--error" role="alert">${errorText(error, t)}</p>`;
}

function Atelier({ a, cats, regs, tz, reload }) {
  const { t, lang, api, me, announce } = useApp();
  const [state, setState] = useState({ busy: false, error: null });
  const act = async (arg, kind) => {
    setState({ busy: true, error: null });
    try {
      if (kind === 'cancel') {
        await api.del(`/v1/atelier-registrations/${encodeURIComponent(arg())}`);
        announce(t('servicesapp.agenda.cancelled', { title: a.title }));
      } else {
        const body = arg() ? { session_ids: arg() } : {};
        const made = await api.post(`/v1/ateliers/${encodeURIComponent(a.id)}/registrations`, body, { idempotent: true });
        const waiting = made.items.some((r) => r.status === 'waitlisted');
        announce(t(waiting ? 'servicesapp.agenda.waitlisted' : 'servicesapp.agenda.registered', { title: a.title }));
      }
      setState({ busy: false, error: null });
      reload();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const mine = (s) => regs.find((r) => r.session_id === s.id);
  const openSessions = a.sessions.filter((s) => s.status === 'scheduled' && new Date(s.start) > new Date() && !mine(s));
  const next = encodeURIComponent(location.pathname);
  return html`
    <article class="card services-atelier" aria-labelledby="atelier-${a.id}">
      <h2 id="atelier-${a.id}">${a.title}</h2>
      <p class="services-meta">${cats[a.category_id] || ''} · ${atelierPrice(a, t, formatPrice, lang)}
        ${a.audience === 'members' ? ` · ${t('servicesapp.audience.members')}` : ''}</p>
      ${a.description && html`<p>${a.description}</p>`}
      ${state.error && html`<${Refusal} error=${state.error} a=${a} />`}
      <ul class="services-sessions">
        ${a.sessions.map((s) => html`<${Session} key=${s.id} a=${a} s=${s} reg=${mine(s)} tz=${tz} busy=${state.busy} act=${act} />`)}
      </ul>
      ${me && openSessions.length > 1 && html`
        <button class="button" type="button" disabled=${state.busy} onClick=${() => act(() => null, 'register')}>${t('servicesapp.agenda.register.all')}</button>`}
      ${!me && html`<p><a href="/sign-in?next=${next}">${t('servicesapp.agenda.signin')}</a></p>`}
    </article>`;
}

export default function Agenda({ params }) {
  const { t, api, me } = useApp();
  const [state, setState] = useState({ loading: true });
  const siteId = params.siteId;
  const load = async () => {
    try {
      const [agenda, cats, mine] = await Promise.all([
        api.get(`/v1/sites/${encodeURIComponent(siteId)}/ateliers`),
        api.get('/v1/atelier-categories'),
        me ? api.get('/v1/me/atelier-registrations') : Promise.resolve({ items: [] }),
      ]);
      setState({ agenda, cats: Object.fromEntries(cats.items.map((c) => [c.id, c.name])), regs: mine.items });
    } catch (error) {
      setState({ error });
    }
  };
  useEffect(() => {
    load();
  }, [siteId, me && me.id]);
  const site = state.agenda && state.agenda.site;
  const title = site ? t('servicesapp.agenda.title.site', { name: site.name }) : t('servicesapp.agenda.title');
  const feed = `${location.origin}/v1/sites/${encodeURIComponent(siteId)}/ateliers.ics`;
  return html`
    <${Page} title=${title}>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${state.error && html`<${Refusal} error=${state.error} a=${a} />`}
      ${site && html`
        <p class="services-meta">${addressText(site.address)}</p>
        <p><a href=${feed}>${t('servicesapp.agenda.feed')}</a> <span class="hint">${t('servicesapp.agenda.feed.hint')}</span></p>
        ${state.agenda.items.length === 0 && html`<p class="empty">${t('servicesapp.agenda.none')}</p>`}
        ${state.agenda.items.map((a) => html`
          <${Atelier} key=${a.id} a=${a} cats=${state.cats} regs=${state.regs.filter((r) => r.atelier_id === a.id)} tz=${site.timezone} reload=${load} />`)}`}
    <//>`;
}
