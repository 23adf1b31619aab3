import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { Field, FormError, useSubmit } from '../lib/forms.js';

export default function SignUp() {
  const { t, lang, api } = useApp();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const s = useSubmit(() => api.post('/v1/auth/register', { name, email, password, language: lang }, { idempotent: true }));
  if (s.done) {
    return html`
      <${Page} title=${t('signup.done.title')}>
        <p role="status">${t('signup.done.text', { email })}</p>
        <p>${t('signup.done.spam')}</p>
        <p><a class="button button--secondary" href="/sign-in">${t('signup.done.signin')}</a></p>
      <//>`;
  }
  return html`
    <${Page} title=${t('signup.title')}>
      <form class="form" onSubmit=${s.onSubmit} novalidate aria-busy=${s.busy ? 'true' : 'false'}>
        <${FormError} error=${s.error} />
        <${Field} name="name" label=${t('field.name')} value=${name} onInput=${setName}
          autocomplete="name" required error=${s.fields.name} />
        <${Field} name="email" type="email" label=${t('field.email')} value=${email} onInput=${setEmail}
          autocomplete="email" required error=${s.fields.email} />
        <${Field} name="password" type="password" label=${t('field.password')} value=${password} onInput=${setPassword}
          autocomplete="new-password" required hint=${t('field.password.hint')} error=${s.fields.password} />
        <button class="button" type="submit">${s.busy ? t('signup.busy') : t('signup.submit')}</button>
      </form>
      <p>${t('signup.member')} <a href="/sign-in">${t('signup.signin')}</a></p>
    <//>`;
}
