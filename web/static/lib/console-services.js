// What the console's pages of the services share: a person found by name
// or registered in place as a guest (name, commune, age band, an optional
// phone and email), and the site of an atelier or appointment among those
// the manager runs. Loaded with the console only.
import { html, useState } from './ui.js';
import { useApp } from './context.js';
import { Field, FormError, useSubmit } from './forms.js';
import { managedSites } from './console.js';
import { ageBands } from '../pages/console/people.js';
import './console-words.js';

// siteFor: the managed site of that id, or null (another site's page says
// not found: the API decides again on every call).
export async function siteFor(api, me, siteId) {
  const sites = await managedSites(api, me);
  return sites.find((s) => s.id === siteId) || null;
}

// bookableHere: what an atelier or a window at site may hold — the site's
// own resources, then the kits of the other sites this person manages,
// each with its home site's name (from). A host place has no resources of
// its own: its ateliers bring a kit, which only its home site's managers
// may take away (the API says so again).
export async function bookableHere(api, me, site) {
  const live = (r) => r.items.filter((x) => !x.retired);
  const others = (await managedSites(api, me)).filter((x) => x.id !== site.id && x.kind !== 'host');
  const [own, ...kits] = await Promise.all([
    api.get(`/v1/sites/${encodeURIComponent(site.id)}/resources`).then(live),
    ...others.map((o) => api.get(`/v1/sites/${encodeURIComponent(o.id)}/resources?kind=kit`).then((r) => live(r).map((k) => ({ ...k, from: o.name })))),
  ]);
  return own.concat(...kits);
}

// PersonPicker: search the site's people, or register a guest in place;
// onPick({id, name}) receives the person chosen. label says what picking
// does ("Inscrire", "Choisir").
export function PersonPicker({ site, label, onPick, busy }) {
  const { t, api, lang, announce } = useApp();
  const [q, setQ] = useState('');
  const [found, setFound] = useState(null);
  const [creating, setCreating] = useState(false);
  const [g, setG] = useState({ name: '', commune: '', postal: '', band: 'unknown', phone: '', email: '' });
  const search = useSubmit(async () => {
    const list = await api.get(`/v1/sites/${encodeURIComponent(site.id)}/people?q=${encodeURIComponent(q)}&limit=20`);
    setFound(list.items);
    announce(t('console.people.found', { n: list.items.length }));
  });
  const create = useSubmit(async () => {
    const c = { name: g.commune };
    if (g.postal.trim()) {
      c.postal_code = g.postal.trim();
    }
    const body = { name: g.name, commune: c, age_band: g.band, language: lang };
    if (g.phone.trim()) {
      body.phone = g.phone.trim();
    }
    if (g.email.trim()) {
      body.email = g.email.trim();
    }
    const made = await api.post(`/v1/sites/${encodeURIComponent(site.id)}/guests`, body, { idempotent: true });
    announce(t('servicesapp.guest.made', { name: made.name }));
    setCreating(false);
    setG({ name: '', commune: '', postal: '', band: 'unknown', phone: '', email: '' });
    await onPick({ id: made.id, name: made.name, guest: true });
  });
  const set = (k) => (v) => setG((x) => ({ ...x, [k]: v }));
  return html`
    <div class="services-picker">
      <form class="form console-inline" role="search" onSubmit=${search.onSubmit} novalidate>
        <${FormError} error=${search.error} />
        <${Field} name="picker-q" type="search" label=${t('servicesapp.picker.q')} value=${q} onInput=${setQ} error=${search.fields.q} />
        <button class="button button--secondary" type="submit">${t('console.people.submit')}</button>
      </form>
      ${found && found.length === 0 && html`<p class="empty">${t('console.people.none')}</p>`}
      ${found && found.length > 0 && html`
        <ul class="console-list">
          ${found.map((p) => html`
            <li key=${p.id}>
              <span>${p.name}</span> <span class="hint">${p.email || t('console.person.noemail')}</span>
              ${' '}<button class="button" type="button" disabled=${busy} aria-label=${`${label} ${p.name}`} onClick=${() => onPick({ id: p.id, name: p.name })}>${label}</button>
            </li>`)}
        </ul>`}
      ${!creating && html`<button class="button button--secondary" type="button" onClick=${() => setCreating(true)}>${t('servicesapp.picker.new')}</button>`}
      ${creating && html`
        <form class="form" onSubmit=${create.onSubmit} novalidate aria-labelledby="picker-new">
          <h3 id="picker-new">${t('servicesapp.picker.new')}</h3>
          <${FormError} error=${create.error} />
          <${Field} name="guest-name" label=${t('field.name')} value=${g.name} onInput=${set('name')} required error=${create.fields.name} />
          <${Field} name="guest-commune" label=${t('console.guest.commune')} value=${g.commune} onInput=${set('commune')} required error=${create.fields['commune.name'] || create.fields.commune} />
          <${Field} name="guest-postal" label=${t('console.guest.postal')} inputmode="numeric" value=${g.postal} onInput=${set('postal')} error=${create.fields['commune.postal_code']} />
          <${Field} name="guest-age" label=${t('console.guest.age')} value=${g.band} onInput=${set('band')} error=${create.fields.age_band}>
            ${ageBands.map((b) => html`<option key=${b} value=${b}>${t(`console.age.${b}`)}</option>`)}
          <//>
          <${Field} name="guest-phone" type="tel" label=${t('field.phone')} hint=${t('field.phone.hint')} value=${g.phone} onInput=${set('phone')} error=${create.fields.phone} />
          <${Field} name="guest-email" type="email" label=${t('servicesapp.guest.email')} hint=${t('servicesapp.guest.email.hint')} value=${g.email} onInput=${set('email')} error=${create.fields.email} />
          <button class="button" type="submit" disabled=${busy || create.busy}>${t('servicesapp.picker.create', { label })}</button>
        </form>`}
    </div>`;
}
