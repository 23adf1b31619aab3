// People: the site's front desk. Search people (q, status), register a
// walk-in (with or without email) or a guest (commune and age band), and
// open a person's page.
import { html, useState } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Field, FormError, useSubmit } from '../../lib/forms.js';
import { navigate } from '../../lib/router.js';
import { useConsoleSite, ConsoleFrame } from '../../lib/console.js';

export const ageBands = ['unknown', 'under_12', '12_17', '18_24', '25_39', '40_59', '60_69', '70_plus'];

function Search({ site }) {
  const { t, api, announce } = useApp();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('all');
  const [found, setFound] = useState(null);
  const s = useSubmit(async () => {
    const list = await api.get(`/v1/sites/${encodeURIComponent(site.id)}/people?q=${encodeURIComponent(q)}&status=${status}&limit=50`);
    setFound(list.items);
    announce(t('console.people.found', { n: list.items.length }));
  });
  return html`
    <section aria-labelledby="people-search">
      <h2 id="people-search">${t('console.people.search')}</h2>
      <form class="form console-inline" role="search" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="q" type="search" label=${t('console.people.q')} hint=${t('console.people.q.hint')} value=${q} onInput=${setQ} error=${s.fields.q} />
        <${Field} name="status" label=${t('console.people.status')} value=${status} onInput=${setStatus}>
          ${['all', 'active', 'lapsed'].map((v) => html`<option key=${v} value=${v}>${t(`console.people.status.${v}`)}</option>`)}
        <//>
        <button class="button" type="submit">${t('console.people.submit')}</button>
      </form>
      ${found && found.length === 0 && html`<p class="empty">${t('console.people.none')}</p>`}
      ${found && found.length > 0 && html`
        <ul class="console-list console-people">
          ${found.map((p) => html`
            <li key=${p.id}>
              <a href="/console/people/${encodeURIComponent(p.id)}">${p.name}</a>
              ${' '}<span>${p.email || t('console.person.noemail')}</span>
              ${p.active && html` <span class="badge badge--ok">${t('console.people.active')}</span>`}
            </li>`)}
        </ul>`}
    </section>`;
}

function WalkIn({ site }) {
  const { t, api, lang } = useApp();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [phone, setPhone] = useState('');
  const s = useSubmit(async () => {
    const body = { name, language: lang };
    if (email.trim()) {
      body.email = email.trim();
    }
    if (phone.trim()) {
      body.phone = phone.trim();
    }
    const p = await api.post(`/v1/sites/${encodeURIComponent(site.id)}/people`, body, { idempotent: true });
    navigate(`/console/people/${encodeURIComponent(p.id)}`);
  });
  return html`
    <section aria-labelledby="people-walkin">
      <h2 id="people-walkin">${t('console.walkin.title')}</h2>
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="walkin-name" label=${t('field.name')} value=${name} onInput=${setName} required error=${s.fields.name} />
        <${Field} name="walkin-email" type="email" label=${t('console.walkin.email')} hint=${t('console.walkin.email.hint')} value=${email} onInput=${setEmail} error=${s.fields.email} />
        <${Field} name="walkin-phone" type="tel" label=${t('field.phone')} hint=${t('field.phone.hint')} value=${phone} onInput=${setPhone} error=${s.fields.phone} />
        <button class="button" type="submit">${t('console.walkin.submit')}</button>
      </form>
    </section>`;
}

function Guest({ site }) {
  const { t, api, lang } = useApp();
  const [name, setName] = useState('');
  const [commune, setCommune] = useState('');
  const [postal, setPostal] = useState('');
  const [band, setBand] = useState('unknown');
  const s = useSubmit(async () => {
    const c = { name: commune };
    if (postal.trim()) {
      c.postal_code = postal.trim();
    }
    const g = await api.post(`/v1/sites/${encodeURIComponent(site.id)}/guests`, { name, commune: c, age_band: band, language: lang }, { idempotent: true });
    navigate(`/console/people/${encodeURIComponent(g.id)}`);
  });
  return html`
    <section aria-labelledby="people-guest">
      <h2 id="people-guest">${t('console.guest.title')}</h2>
      <p class="hint">${t('console.guest.intro')}</p>
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="guest-name" label=${t('field.name')} value=${name} onInput=${setName} required error=${s.fields.name} />
        <${Field} name="guest-commune" label=${t('console.guest.commune')} value=${commune} onInput=${setCommune} required error=${s.fields['commune.name'] || s.fields.commune} />
        <${Field} name="guest-postal" label=${t('console.guest.postal')} inputmode="numeric" value=${postal} onInput=${setPostal} error=${s.fields['commune.postal_code']} />
        <${Field} name="guest-age" label=${t('console.guest.age')} value=${band} onInput=${setBand} error=${s.fields.age_band}>
          ${ageBands.map((b) => html`<option key=${b} value=${b}>${t(`console.age.${b}`)}</option>`)}
        <//>
        <button class="button" type="submit">${t('console.guest.submit')}</button>
      </form>
    </section>`;
}

export default function People() {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('console.people.title')} current="/console/people" cs=${cs}>
      ${cs.site && html`
        <div key=${cs.site.id}>
          <${Search} site=${cs.site} />
          <div class="console-columns">
            <${WalkIn} site=${cs.site} />
            <${Guest} site=${cs.site} />
          </div>
        </div>`}
    <//>`;
}
