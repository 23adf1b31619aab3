import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { Field, FormError, useSubmit } from '../lib/forms.js';

export default function ForgotPassword() {
  const { t, api } = useApp();
  const [email, setEmail] = useState('');
  const s = useSubmit(() => api.post('/v1/auth/password-reset', { email }, { idempotent: true }));
  if (s.done) {
    return html`
      <${Page} title=${t('forgot.done.title')}>
        <p role="status">${t('forgot.done.text', { email })}</p>
        <p><a href="/sign-in">${t('forgot.back')}</a></p>
      <//>`;
  }
  return html`
    <${Page} title=${t('forgot.title')}>
      <p>${t('forgot.intro')}</p>
      <form class="form" onSubmit=${s.onSubmit} novalidate aria-busy=${s.busy ? 'true' : 'false'}>
        <${FormError} error=${s.error} />
        <${Field} name="email" type="email" label=${t('field.email')} value=${email} onInput=${setEmail}
          autocomplete="email" required error=${s.fields.email} />
        <button class="button" type="submit">${t('forgot.submit')}</button>
      </form>
      <p><a href="/sign-in">${t('forgot.back')}</a></p>
    <//>`;
}
