// The account's billing address (whom invoices are made out to when a
// purchase names nobody) and the mail the member wants, both kept by
// PATCH /v1/me.
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Field, FormError, useSubmit } from '../lib/forms.js';

export function BillingAddress() {
  const { t, api, me, setMe, announce } = useApp();
  const kept = me.billing_address || null;
  const addr = (kept && kept.address) || {};
  const [name, setName] = useState((kept && kept.name) || '');
  const [line1, setLine1] = useState(addr.line1 || '');
  const [line2, setLine2] = useState(addr.line2 || '');
  const [postalCode, setPostalCode] = useState(addr.postal_code || '');
  const [city, setCity] = useState(addr.city || '');
  const s = useSubmit(async () => {
    const updated = await api.patch('/v1/me', {
      billing_address: {
        name: name.trim(),
        address: { line1: line1.trim(), line2: line2.trim(), postal_code: postalCode.trim(), city: city.trim(), country: addr.country || 'FR' },
      },
    });
    setMe(updated);
    announce(t('prefs.billing.saved'));
  });
  // The API names a blank line1, postal code or city together
  // (billing_address.address): say it beside each of those left blank.
  const values = { 'address.line1': line1, 'address.postal_code': postalCode, 'address.city': city };
  const f = (k) => s.fields[`billing_address.${k}`]
    || (k in values && values[k].trim() === '' ? s.fields['billing_address.address'] : undefined);
  return html`
    <section aria-labelledby="billing-title" class="card">
      <h2 id="billing-title">${t('prefs.billing.title')}</h2>
      <p class="hint">${t('prefs.billing.hint')}</p>
      <form class="form" onSubmit=${s.onSubmit} novalidate aria-busy=${s.busy ? 'true' : 'false'}>
        <${FormError} error=${s.error} />
        <${Field} name="billing-name" label=${t('prefs.billing.name')} value=${name} onInput=${setName} autocomplete="billing name"
          hint=${t('prefs.billing.name.hint')} error=${f('name')} />
        <${Field} name="billing-line1" label=${t('prefs.billing.line1')} value=${line1} onInput=${setLine1} autocomplete="billing address-line1"
          required error=${f('address.line1')} />
        <${Field} name="billing-line2" label=${t('prefs.billing.line2')} value=${line2} onInput=${setLine2} autocomplete="billing address-line2"
          error=${f('address.line2')} />
        <${Field} name="billing-postal" label=${t('prefs.billing.postal')} value=${postalCode} onInput=${setPostalCode}
          autocomplete="billing postal-code" inputmode="numeric" required error=${f('address.postal_code')} />
        <${Field} name="billing-city" label=${t('prefs.billing.city')} value=${city} onInput=${setCity} autocomplete="billing address-level2"
          required error=${f('address.city')} />
        <button class="button" type="submit">${t('account.save')}</button>
      </form>
    </section>`;
}

// The categories a member may turn off, in the order of their day; the
// managers' device mail only for managers.
const categories = ['bookings', 'reminders', 'waiting_list', 'membership', 'credits', 'machines', 'new_sign_in'];

export function MailChoices() {
  const { t, api, me, setMe, announce } = useApp();
  const [choice, setChoice] = useState(() => ({ ...me.notifications }));
  const shown = me.role === 'admin' || (me.managed_site_ids || []).length > 0 ? [...categories, 'devices'] : categories;
  const s = useSubmit(async () => {
    const notifications = {};
    for (const c of shown) {
      notifications[c] = Boolean(choice[c]);
    }
    setMe(await api.patch('/v1/me', { notifications }));
    announce(t('prefs.mail.saved'));
  });
  return html`
    <section aria-labelledby="mail-title" class="card">
      <h2 id="mail-title">${t('prefs.mail.title')}</h2>
      <form class="form" onSubmit=${s.onSubmit} novalidate aria-busy=${s.busy ? 'true' : 'false'}>
        <${FormError} error=${s.error} />
        <fieldset class="choices">
          <legend>${t('prefs.mail.legend')}</legend>
          ${shown.map((c) => html`
            <div class="choice" key=${c}>
              <input type="checkbox" id=${`mail-${c}`} checked=${Boolean(choice[c])}
                onChange=${(e) => setChoice({ ...choice, [c]: e.target.checked })} />
              <label for=${`mail-${c}`}>${t(`prefs.mail.${c}`)}</label>
            </div>`)}
        </fieldset>
        <p class="hint">${t('prefs.mail.always')}</p>
        <button class="button" type="submit">${t('account.save')}</button>
      </form>
    </section>`;
}
