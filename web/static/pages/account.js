// The account: profile (name, phone, language), the address and its
// verification, the billing address and the mail wanted, signing out,
// then devices, the calendar feed, the export and deletion.
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { Field, FormError, useSubmit, errorText } from '../lib/forms.js';
import { navigate } from '../lib/router.js';
import { translator } from '../lib/i18n.js';
import { Sessions, CalendarFeed, DataExport, DeleteAccount } from './account-extras.js';
import { BillingAddress, MailChoices } from './account-prefs.js';

function Profile() {
  const { t, api, me, setMe, announce } = useApp();
  const [name, setName] = useState(me.name);
  const [phone, setPhone] = useState(me.phone || '');
  const [language, setLanguage] = useState(me.language);
  const s = useSubmit(async () => {
    const updated = await api.patch('/v1/me', { name, phone: phone.trim() === '' ? null : phone.trim(), language });
    setMe(updated);
    // After the language changes, in the new one.
    announce(translator(updated.language)('account.saved'));
  });
  return html`
    <section aria-labelledby="profile-title" class="card">
      <h2 id="profile-title">${t('account.profile')}</h2>
      <form class="form" onSubmit=${s.onSubmit} novalidate aria-busy=${s.busy ? 'true' : 'false'}>
        <${FormError} error=${s.error} />
        <${Field} name="name" label=${t('field.name')} value=${name} onInput=${setName} autocomplete="name" required error=${s.fields.name} />
        <${Field} name="phone" type="tel" label=${t('field.phone')} value=${phone} onInput=${setPhone} autocomplete="tel"
          inputmode="tel" hint=${t('field.phone.hint')} error=${s.fields.phone} />
        <${Field} name="language" label=${t('field.language')} value=${language} onInput=${setLanguage} error=${s.fields.language}>
          <option value="fr" lang="fr">Français</option>
          <option value="en" lang="en">English</option>
        <//>
        <button class="button" type="submit">${t('account.save')}</button>
      </form>
    </section>`;
}

function Address() {
  const { t, api, me } = useApp();
  const [sent, setSent] = useState(null);
  const resend = async () => {
    try {
      await api.post('/v1/me/email-verification', {}, { idempotent: true });
      setSent({ ok: true });
    } catch (error) {
      setSent({ error });
    }
  };
  return html`
    <section aria-labelledby="address-title" class="card">
      <h2 id="address-title">${t('account.email')}</h2>
      <p class="email">${me.email}</p>
      ${me.email_verified
        ? html`<p class="badge badge--ok">${t('account.verified')}</p>`
        : html`<p>${t('account.unverified')}</p>
          <button class="button button--secondary" type="button" onClick=${resend}>${t('account.resend')}</button>`}
      ${me.pending_email && html`<p>${t('account.pending', { email: me.pending_email })}</p>`}
      ${sent && sent.ok && html`<p role="status" class="alert alert--success">${t('account.resent', { email: me.email })}</p>`}
      ${sent && sent.error && html`<p role="alert" class="alert alert--error">${errorText(sent.error, t)}</p>`}
    </section>`;
}

function SignOut() {
  const { t, api, signedOut } = useApp();
  const [error, setError] = useState(null);
  const signOut = async () => {
    try {
      await api.post('/v1/auth/logout');
    } catch (err) {
      // A session already over is signed out all the same.
      if (err.status !== 401) {
        setError(err);
        return;
      }
    }
    signedOut();
    navigate('/sign-in');
  };
  return html`
    <section aria-labelledby="signout-title" class="card">
      <h2 id="signout-title">${t('account.signout.title')}</h2>
      <button class="button button--secondary" type="button" onClick=${signOut}>${t('account.signout')}</button>
      ${error && html`<p role="alert" class="alert alert--error">${errorText(error, t)}</p>`}
    </section>`;
}

export default function Account() {
  const { t } = useApp();
  return html`
    <${Page} title=${t('account.title')} wide>
      <div class="cards">
        <${Profile} />
        <${Address} />
        <${BillingAddress} />
        <${MailChoices} />
        <${SignOut} />
        <${Sessions} />
        <${CalendarFeed} />
        <${DataExport} />
        <${DeleteAccount} />
      </div>
    <//>`;
}
