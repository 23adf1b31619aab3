// A site of the network (admins): where it is, its managers (add one by
// the email of their account, remove one), and its legal identity, which
// only an admin changes (the API's checks shown next to each field).
import { html, useState } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Field, FormError, useSubmit } from '../../lib/forms.js';
import { useLoad, Problem } from '../../lib/wallet.js';
import { Facts } from '../../lib/console.js';
import { NetworkFrame, LegalFields, legalOf, legalBody, zoneName, siteKinds } from '../../lib/console-network.js';

function Managers({ site }) {
  const { t, api, announce } = useApp();
  const s = useLoad(() => api.get(`/v1/sites/${encodeURIComponent(site.id)}/managers`), [site.id]);
  const [email, setEmail] = useState('');
  const [removeError, setRemoveError] = useState(null);
  const add = useSubmit(async () => {
    const u = await api.post(`/v1/sites/${encodeURIComponent(site.id)}/managers`, { email: email.trim() }, { idempotent: true });
    announce(t('consoled.managers.added', { name: u.name, site: site.name }));
    setEmail('');
    s.reload();
  });
  const remove = async (u) => {
    setRemoveError(null);
    try {
      await api.del(`/v1/sites/${encodeURIComponent(site.id)}/managers/${encodeURIComponent(u.id)}`);
      announce(t('consoled.managers.removed', { name: u.name, site: site.name }));
      s.reload();
    } catch (err) {
      setRemoveError(err);
    }
  };
  return html`
    <section aria-labelledby="site-managers">
      <h2 id="site-managers">${t('consoled.managers.title')}</h2>
      ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
      <${Problem} error=${s.error || removeError} />
      ${s.data && s.data.items.length === 0 && html`<p class="empty">${t('consoled.managers.none')}</p>`}
      ${s.data && s.data.items.length > 0 && html`
        <ul class="console-list console-bookings">${s.data.items.map((u) => html`
          <li key=${u.id}>
            <p><strong>${u.name}</strong> · ${u.email}</p>
            <p class="console-actions"><button class="button button--secondary" type="button" onClick=${() => remove(u)}
              aria-label=${t('consoled.managers.remove.named', { name: u.name })}>${t('consoled.managers.remove')}</button></p>
          </li>`)}
        </ul>`}
      <form class="form console-inline" onSubmit=${add.onSubmit} novalidate>
        <${FormError} error=${add.error} />
        <${Field} name="manager-email" type="email" label=${t('consoled.managers.email')} hint=${t('consoled.managers.email.hint')} autocomplete="off"
          value=${email} onInput=${setEmail} required error=${add.fields.email || add.fields.user_id} />
        <button class="button" type="submit" disabled=${add.busy}>${t('consoled.managers.add')}</button>
      </form>
    </section>`;
}

function Legal({ site, onSaved }) {
  const { t, api, announce } = useApp();
  const [v, setV] = useState(() => legalOf(site.legal));
  const set = (k) => (x) => setV({ ...v, [k]: x });
  const s = useSubmit(async () => {
    const saved = await api.patch(`/v1/sites/${encodeURIComponent(site.id)}`, { legal: legalBody(v) });
    announce(t('consoled.legal.saved'));
    onSaved(saved);
  });
  return html`
    <section aria-labelledby="site-legal">
      <h2 id="site-legal">${t('consoled.legal.title')}</h2>
      <p class="hint">${t('consoled.legal.hint')}</p>
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${LegalFields} prefix="edit-legal" v=${v} set=${set} fields=${s.fields} />
        <button class="button" type="submit" disabled=${s.busy}>${t('consoled.legal.submit')}</button>
      </form>
    </section>`;
}

// Kind: what the site is (a fablab, a coworking space…), changed by an admin.
function Kind({ site, onSaved }) {
  const { t, api, announce } = useApp();
  const [kind, setKind] = useState(site.kind);
  const s = useSubmit(async () => {
    const saved = await api.patch(`/v1/sites/${encodeURIComponent(site.id)}`, { kind });
    announce(t('consoled.kind.saved', { kind: t(`consoled.kind.${saved.kind}`) }));
    onSaved(saved);
  });
  return html`
    <form class="form console-inline" onSubmit=${s.onSubmit} novalidate>
      <${FormError} error=${s.error} />
      <${Field} name="edit-kind" label=${t('consoled.new.kind')} value=${kind} onInput=${setKind} error=${s.fields.kind}>
        ${siteKinds.map((k) => html`<option key=${k} value=${k}>${t(`consoled.kind.${k}`)}</option>`)}
      <//>
      <button class="button button--secondary" type="submit" disabled=${s.busy}>${t('consoled.kind.submit')}</button>
    </form>`;
}

function Site({ id }) {
  const { t, api } = useApp();
  const s = useLoad(() => api.get(`/v1/sites/${encodeURIComponent(id)}`), [id]);
  if (!s.data) {
    return s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`;
  }
  const site = s.data;
  const a = site.address;
  const l = site.legal;
  return html`
    <h2>${site.name}</h2>
    <${Facts} items=${[
      [t('consoled.sites.kind'), t(`consoled.kind.${site.kind}`)],
      [t('consoled.site.address'), [a.line1, a.line2, `${a.postal_code} ${a.city}`, a.country].filter(Boolean).join(', ')],
      [t('consoled.site.timezone'), zoneName(t, site.timezone)],
      [t('consoled.site.entity'), l ? `${l.company_name} (${l.legal_form}), ${t('consoled.entities.siren', { siren: l.siren })}` : t('consoled.host.nolegal')],
      site.contact_name && [t('consoled.host.contact_name'), [site.contact_name, site.contact_phone].filter(Boolean).join(', ')],
    ]} />
    <${Kind} key=${`kind-${site.updated_at}`} site=${site} onSaved=${s.reload} />
    <p><a href="/console/network">${t('consoled.site.back')}</a></p>
    <div class="console-columns">
      <${Managers} site=${site} />
      <${Legal} key=${site.updated_at} site=${site} onSaved=${s.reload} />
    </div>`;
}

export default function NetworkSite({ params }) {
  const { t } = useApp();
  return html`
    <${NetworkFrame} title=${t('consoled.site.title')} current="/console/network">
      <${Site} id=${params.id} />
    <//>`;
}
