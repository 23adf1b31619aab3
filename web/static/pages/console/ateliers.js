// Ateliers (/console/ateliers): the site's ateliers of the coming months,
// and creating one, a single session or a series (every week or every n
// weeks, up to 60 sessions): its dates are the site's wall-clock dates,
// read in the site's zone by the API, so a change of time in between
// moves no session. Category, seats, price, audience, resources.
import { html, useState, useEffect } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Field, FormError, useSubmit } from '../../lib/forms.js';
import { navigate } from '../../lib/router.js';
import { useConsoleSite, ConsoleFrame, euros } from '../../lib/console.js';
import { dayKey } from '../../lib/format.js';
import { sessionWhen, seatsText, seriesSessions, addDays, wallClock as hm } from '../../lib/services.js';
import { bookableHere } from '../../lib/console-services.js';

function List({ site }) {
  const { t, lang, api } = useApp();
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    const from = addDays(dayKey(new Date(), site.timezone), -7);
    api.get(`/v1/sites/${encodeURIComponent(site.id)}/ateliers?from=${from}&to=${addDays(from, 365)}`).then((l) => setState({ items: l.items }), (error) => setState({ error }));
  }, [site.id]);
  const now = new Date();
  return html`
    <section aria-labelledby="ateliers-list">
      <h2 id="ateliers-list">${t('servicesapp.console.list')}</h2>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${state.error && html`<p class="alert alert--error" role="alert">${state.error.detail || t('error.unexpected')}</p>`}
      ${state.items && state.items.length === 0 && html`<p class="empty">${t('servicesapp.console.none')}</p>`}
      ${state.items && state.items.length > 0 && html`
        <ul class="console-list services-list">
          ${state.items.map((a) => {
            const next = a.sessions.find((s) => new Date(s.end) > now && s.status === 'scheduled') || a.sessions[a.sessions.length - 1];
            return html`
              <li key=${a.id}>
                <a href="/console/ateliers/${encodeURIComponent(a.id)}">${a.title}</a>
                <span> · ${t('servicesapp.console.sessions', { n: a.sessions.length })} · ${sessionWhen(next, lang, site.timezone)} · ${seatsText(next, t)}</span>
              </li>`;
          })}
        </ul>`}
    </section>`;
}

function Create({ site }) {
  const { t, lang, api, me } = useApp();
  const [cats, setCats] = useState([]);
  const [resources, setResources] = useState([]);
  const [f, setF] = useState({
    title: '', description: '', category: '', audience: 'public', seats: '10', pricing: 'free', price: '0', credits: '0', first: addDays(dayKey(new Date(), site.timezone), 7),
    start: '14:00', end: '16:00', count: '1', weeks: '1', rids: [],
  });
  const [invalid, setInvalid] = useState({});
  useEffect(() => {
    api.get('/v1/atelier-categories').then((c) => {
      setCats(c.items);
      setF((x) => ({ ...x, category: x.category || (c.items[0] && c.items[0].id) || '' }));
    }, () => {});
    bookableHere(api, me, site).then(setResources, () => {});
  }, [site.id]);
  const set = (k) => (v) => setF((x) => ({ ...x, [k]: v }));
  const count = Number(f.count);
  const weeks = Number(f.weeks);
  const okSeries = Number.isInteger(count) && count >= 1 && count <= 60 && Number.isInteger(weeks) && weeks >= 1 && weeks <= 4 && /^\d{4}-\d{2}-\d{2}$/.test(f.first);
  const sessions = okSeries && /^\d\d:\d\d$/.test(f.start) && /^\d\d:\d\d$/.test(f.end) ? seriesSessions(f.first, f.start, f.end, count, weeks) : [];
  const s = useSubmit(async () => {
    const bad = {};
    // What a seat costs: nothing, a price paid at the desk or online, or
    // the member's credit spent at registration.
    const cents = f.pricing === 'price' ? euros(f.price) : 0;
    const credit = f.pricing === 'credits' ? euros(f.credits) : 0;
    if (Number.isNaN(cents) || (f.pricing === 'price' && cents === 0)) {
      bad.price = t('servicesapp.console.price.bad');
    }
    if (Number.isNaN(credit) || (f.pricing === 'credits' && credit === 0)) {
      bad.credits = t('servicesapp.console.price.bad');
    }
    if (!okSeries) {
      bad.count = t('servicesapp.console.series.bad');
    }
    setInvalid(bad);
    if (Object.keys(bad).length) {
      return;
    }
    const body = {
      title: f.title, description: f.description, category_id: f.category, audience: f.audience, seats: Number(f.seats), pricing: f.pricing, price_cents: cents, credit_cents: credit,
      resource_ids: f.rids, sessions,
    };
    const a = await api.post(`/v1/sites/${encodeURIComponent(site.id)}/ateliers`, body, { idempotent: true });
    navigate(`/console/ateliers/${encodeURIComponent(a.id)}`);
  });
  const toggle = (id) => setF((x) => ({ ...x, rids: x.rids.includes(id) ? x.rids.filter((r) => r !== id) : [...x.rids, id] }));
  const sessionField = (i, k) => s.fields[`sessions[${i}].${k}`];
  const sessionError = sessions.map((_, i) => sessionField(i, 'start') || sessionField(i, 'end')).find(Boolean) || s.fields.sessions;
  return html`
    <section aria-labelledby="ateliers-new">
      <h2 id="ateliers-new">${t('servicesapp.console.new')}</h2>
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="atelier-title" label=${t('servicesapp.console.title')} value=${f.title} onInput=${set('title')} required error=${s.fields.title} />
        <div class="field">
          <label for="atelier-description">${t('servicesapp.console.description')}</label>
          <textarea id="atelier-description" rows="3" value=${f.description} onInput=${(e) => set('description')(e.target.value)}></textarea>
        </div>
        <${Field} name="atelier-category" label=${t('servicesapp.console.category')} value=${f.category} onInput=${set('category')} error=${s.fields.category_id}>
          ${cats.map((c) => html`<option key=${c.id} value=${c.id}>${c.name}</option>`)}
        <//>
        <${Field} name="atelier-audience" label=${t('servicesapp.console.audience')} value=${f.audience} onInput=${set('audience')} error=${s.fields.audience}>
          ${(site.kind === 'host' ? ['public', 'invitation'] : ['public', 'members', 'invitation']).map((a) => html`<option key=${a} value=${a}>${t(`servicesapp.audience.${a}`)}</option>`)}
        <//>
        <${Field} name="atelier-seats" type="number" inputmode="numeric" label=${t('servicesapp.console.seats')} value=${f.seats} onInput=${set('seats')} error=${s.fields.seats} />
        <${Field} name="atelier-pricing" label=${t('servicesapp.console.pricing')} value=${f.pricing} onInput=${set('pricing')} error=${s.fields.pricing}>
          ${(site.kind === 'host' ? ['free', 'credits'] : ['free', 'price', 'credits']).map((k) => html`<option key=${k} value=${k}>${t(`servicesapp.pricing.${k}`)}</option>`)}
        <//>
        ${f.pricing === 'price' && html`<${Field} name="atelier-price" label=${t('servicesapp.console.price')} hint=${t('servicesapp.console.price.hint')} inputmode="decimal" value=${f.price} onInput=${set('price')} error=${invalid.price || s.fields.price_cents} />`}
        ${f.pricing === 'credits' && html`<${Field} name="atelier-credits" label=${t('servicesapp.console.credits')} hint=${t('servicesapp.console.credits.hint')} inputmode="decimal" value=${f.credits} onInput=${set('credits')} error=${invalid.credits || s.fields.credit_cents} />`}
        ${resources.length > 0 && html`
          <fieldset class="choices">
            <legend>${t('servicesapp.console.resources')}</legend>
            ${resources.map((r) => html`
              <div class="choice" key=${r.id}>
                <input type="checkbox" id="atelier-res-${r.id}" checked=${f.rids.includes(r.id)} onChange=${() => toggle(r.id)} />
                <label for="atelier-res-${r.id}">${r.from ? t('servicesapp.console.kit_from', { name: r.name, site: r.from }) : r.name}</label>
              </div>`)}
            ${s.fields.resource_ids && html`<p class="field-error">${s.fields.resource_ids}</p>`}
          </fieldset>`}
        <fieldset class="choices">
          <legend>${t('servicesapp.console.when')}</legend>
          <${Field} name="atelier-first" type="date" label=${t('servicesapp.console.first')} value=${f.first} onInput=${set('first')} />
          <${Field} name="atelier-start" type="time" label=${t('servicesapp.console.start')} value=${f.start} onInput=${set('start')} />
          <${Field} name="atelier-end" type="time" label=${t('servicesapp.console.end')} value=${f.end} onInput=${set('end')} />
          <${Field} name="atelier-count" type="number" inputmode="numeric" label=${t('servicesapp.console.count')} hint=${t('servicesapp.console.count.hint')} value=${f.count} onInput=${set('count')} error=${invalid.count} />
          <${Field} name="atelier-weeks" label=${t('servicesapp.console.every')} value=${f.weeks} onInput=${set('weeks')}>
            ${['1', '2', '3', '4'].map((w) => html`<option key=${w} value=${w}>${t('servicesapp.console.weeks', { n: Number(w) })}</option>`)}
          <//>
          ${sessionError && html`<p class="field-error" role="alert">${sessionError}</p>`}
          ${sessions.length > 0 && html`
            <p id="atelier-dates">${t('servicesapp.console.dates', { n: sessions.length })}</p>
            <ul aria-labelledby="atelier-dates" class="services-dates">
              ${sessions.map((x) => html`<li key=${x.start}>${new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${x.start.slice(0, 10)}T12:00Z`))}, ${hm(f.start, lang)}\u00a0– ${hm(f.end, lang)}</li>`)}
            </ul>`}
        </fieldset>
        <button class="button" type="submit" disabled=${s.busy}>${t('servicesapp.console.create')}</button>
      </form>
    </section>`;
}

export default function ConsoleAteliers() {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('servicesapp.console.ateliers')} current="/console/ateliers" cs=${cs}>
      ${cs.site && html`
        <div key=${cs.site.id}>
          <${List} site=${cs.site} />
          <${Create} site=${cs.site} />
        </div>`}
    <//>`;
}
