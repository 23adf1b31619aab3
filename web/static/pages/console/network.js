// Network (admins): the sites and how many managers each has, a new site
// with its address, time zone and legal identity, the legal entities the
// sites belong to (with the way to their closings and archives), and the
// check of every entity's invoice chain.
import { html, useState } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Field, FormError, useSubmit } from '../../lib/forms.js';
import { navigate } from '../../lib/router.js';
import { useLoad, Problem } from '../../lib/wallet.js';
import { rememberSite } from '../../lib/console-site-picker.js';
import { NetworkFrame, LegalFields, blankLegal, legalBody, zones, zoneName, siteKinds } from '../../lib/console-network.js';

async function loadSites(api) {
  const list = await api.get('/v1/sites?limit=200');
  const counts = await Promise.all(list.items.map((s) => api.get(`/v1/sites/${encodeURIComponent(s.id)}/managers`).then((m) => m.items.length)));
  return list.items.map((s, i) => ({ ...s, managers: counts[i] }));
}

function Sites({ sites }) {
  const { t } = useApp();
  return html`
    <section aria-labelledby="network-sites">
      <h2 id="network-sites">${t('consoled.sites.title')}</h2>
      ${sites.length === 0 ? html`<p class="empty">${t('consoled.sites.none')}</p>` : html`
        <div class="console-scroll" tabindex="0" role="region" aria-labelledby="network-sites">
          <table class="console-grid">
            <thead><tr>
              <th scope="col">${t('consoled.sites.name')}</th>
              <th scope="col">${t('consoled.sites.kind')}</th>
              <th scope="col">${t('consoled.sites.city')}</th>
              <th scope="col">${t('consoled.sites.entity')}</th>
              <th scope="col">${t('consoled.sites.managers')}</th>
            </tr></thead>
            <tbody>${sites.map((s) => html`
              <tr key=${s.id}>
                <th scope="row"><a href=${`/console/network/sites/${s.id}`}>${s.name}</a></th>
                <td>${t(`consoled.kind.${s.kind}`)}</td>
                <td>${s.address.city}</td>
                <td>${s.legal ? s.legal.company_name : t('consoled.host.nolegal')}</td>
                <td>${t('consoled.sites.managers.n', { n: s.managers })}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>`}
    </section>`;
}

function NewSite({ onDone }) {
  const { t, api, announce } = useApp();
  const [v, setV] = useState({ name: '', kind: 'tiers_lieu', timezone: 'Europe/Paris', line1: '', line2: '', postal_code: '', city: '', country: 'FR', contact_email: '', contact_name: '', contact_phone: '' });
  const [legal, setLegal] = useState(blankLegal);
  const set = (k) => (x) => setV({ ...v, [k]: x });
  const setL = (k) => (x) => setLegal({ ...legal, [k]: x });
  const s = useSubmit(async () => {
    const address = { line1: v.line1.trim(), postal_code: v.postal_code.trim(), city: v.city.trim(), country: v.country.trim().toUpperCase() };
    if (v.line2.trim()) {
      address.line2 = v.line2.trim();
    }
    const body = { name: v.name.trim(), kind: v.kind, timezone: v.timezone, address };
    // A host place issues no invoices: no legal identity, a person to call.
    if (v.kind === 'host') {
      body.contact_name = v.contact_name.trim();
      if (v.contact_phone.trim()) {
        body.contact_phone = v.contact_phone.trim();
      }
    } else {
      body.legal = legalBody(legal);
    }
    if (v.contact_email.trim()) {
      body.contact_email = v.contact_email.trim();
    }
    const site = await api.post('/v1/sites', body, { idempotent: true });
    announce(t('consoled.new.done', { name: site.name }));
    onDone(site);
  });
  const f = s.fields;
  return html`
    <section aria-labelledby="network-new">
      <h2 id="network-new">${t('consoled.new.title')}</h2>
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="site-name" label=${t('consoled.new.name')} value=${v.name} onInput=${set('name')} required error=${f.name} />
        <${Field} name="site-kind" label=${t('consoled.new.kind')} value=${v.kind} onInput=${set('kind')} error=${f.kind}>
          ${siteKinds.map((k) => html`<option key=${k} value=${k}>${t(`consoled.kind.${k}`)}</option>`)}
        <//>
        <${Field} name="site-zone" label=${t('consoled.new.timezone')} value=${v.timezone} onInput=${set('timezone')} error=${f.timezone}>
          ${zones.map((z) => html`<option key=${z} value=${z}>${zoneName(t, z)}</option>`)}
        <//>
        <fieldset class="console-fieldset">
          <legend>${t('consoled.new.address')}</legend>
          <${Field} name="site-line1" label=${t('consoled.address.line1')} value=${v.line1} onInput=${set('line1')} required error=${f['address.line1']} />
          <${Field} name="site-line2" label=${t('consoled.address.line2')} value=${v.line2} onInput=${set('line2')} error=${f['address.line2']} />
          <${Field} name="site-postal" label=${t('consoled.address.postal_code')} inputmode="numeric" value=${v.postal_code} onInput=${set('postal_code')} required error=${f['address.postal_code']} />
          <${Field} name="site-city" label=${t('consoled.address.city')} value=${v.city} onInput=${set('city')} required error=${f['address.city']} />
          <${Field} name="site-country" label=${t('consoled.address.country')} hint=${t('consoled.address.country.hint')} value=${v.country} onInput=${set('country')} required error=${f['address.country']} />
        </fieldset>
        ${v.kind === 'host' ? html`
          <${Field} name="site-contact-name" label=${t('consoled.host.contact_name')} hint=${t('consoled.host.contact_name.hint')} value=${v.contact_name} onInput=${set('contact_name')} required error=${f.contact_name} />
          <${Field} name="site-contact-phone" type="tel" label=${t('consoled.host.contact_phone')} value=${v.contact_phone} onInput=${set('contact_phone')} error=${f.contact_phone} />`
          : html`<${LegalFields} prefix="site-legal" v=${legal} set=${setL} fields=${f} />`}
        <${Field} name="site-contact" type="email" label=${t('consoled.new.contact')} hint=${t('consoled.new.contact.hint')} value=${v.contact_email} onInput=${set('contact_email')} error=${f.contact_email} />
        <button class="button" type="submit" disabled=${s.busy}>${t('consoled.new.submit')}</button>
      </form>
    </section>`;
}

// Entities: the distinct legal identities of the sites (one invoice
// series and one journal each), with the way to their closings and
// archives: the money page of one of their sites.
function Entities({ sites }) {
  const { t } = useApp();
  const bySiren = new Map();
  for (const s of sites.filter((x) => x.legal)) {
    const e = bySiren.get(s.legal.siren) || { legal: s.legal, sites: [] };
    e.sites.push(s);
    bySiren.set(s.legal.siren, e);
  }
  const open = (e, site) => {
    e.preventDefault();
    rememberSite(site.id);
    navigate('/console/money');
  };
  return html`
    <section aria-labelledby="network-entities">
      <h2 id="network-entities">${t('consoled.entities.title')}</h2>
      <p class="hint">${t('consoled.entities.hint')}</p>
      ${bySiren.size === 0 ? html`<p class="empty">${t('consoled.sites.none')}</p>` : html`
        <ul class="console-list">${[...bySiren.values()].map((e) => html`
          <li key=${e.legal.siren}>
            <p><strong>${e.legal.company_name}</strong> · ${e.legal.legal_form} · ${t('consoled.entities.siren', { siren: e.legal.siren })}</p>
            <p>${t('consoled.entities.sites', { names: e.sites.map((s) => s.name).join(', ') })}</p>
            <p><a href="/console/money" onClick=${(ev) => open(ev, e.sites[0])}>${t('consoled.entities.money', { name: e.legal.company_name })}</a></p>
          </li>`)}
        </ul>`}
    </section>`;
}

// Verify: the check of every entity's hash chain and numbering, said in
// words; the API's reason (in English, for the auditor) comes after.
function Verify({ sites }) {
  const { t, api, announce } = useApp();
  const [result, setResult] = useState(null);
  const s = useSubmit(async () => {
    const r = await api.get('/v1/admin/invoices/verify');
    setResult(r);
    announce(r.ok ? t('consoled.verify.ok', { documents: r.documents, entities: r.entities }) : t('consoled.verify.broken', { n: r.problems.length }));
  });
  const names = {};
  for (const x of sites.filter((y) => y.legal)) {
    names[x.legal.siren] = x.legal.company_name;
  }
  return html`
    <section aria-labelledby="network-verify">
      <h2 id="network-verify">${t('consoled.verify.title')}</h2>
      <p class="hint">${t('consoled.verify.hint')}</p>
      <form class="form console-inline" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <button class="button" type="submit" disabled=${s.busy}>${t('consoled.verify.submit')}</button>
      </form>
      ${result && result.ok && html`<p class="alert alert--success consoled-verify">${t('consoled.verify.ok', { documents: result.documents, entities: result.entities })}</p>`}
      ${result && !result.ok && html`
        <div class="alert alert--error consoled-verify">
          <p>${t('consoled.verify.broken', { n: result.problems.length })}</p>
          <ul>${result.problems.map((p) => html`
            <li key=${p.entity_key}>
              ${p.number
                ? t('consoled.verify.document', { entity: names[p.entity_key] || p.entity_key, number: p.number })
                : t('consoled.verify.head', { entity: names[p.entity_key] || p.entity_key })}
              <br /><span class="hint" lang="en">${p.reason}</span>
            </li>`)}
          </ul>
        </div>`}
    </section>`;
}

function Network() {
  const { t, api } = useApp();
  const s = useLoad(() => loadSites(api), []);
  return html`
    ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
    <${Problem} error=${s.error} />
    ${s.data && html`
      <${Sites} sites=${s.data} />
      <div class="console-columns">
        <${NewSite} onDone=${(site) => navigate(`/console/network/sites/${site.id}`)} />
        <div>
          <${Entities} sites=${s.data} />
          <${Verify} sites=${s.data} />
        </div>
      </div>`}`;
}

export default function NetworkPage() {
  const { t } = useApp();
  return html`
    <${NetworkFrame} title=${t('consoled.network.title')} current="/console/network">
      <${Network} />
    <//>`;
}
