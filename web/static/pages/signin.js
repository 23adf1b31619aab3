import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { Field, FormError, useSubmit } from '../lib/forms.js';

export default function SignIn({ query }) {
  const { t, api, signedIn } = useApp();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const s = useSubmit(async () => {
    await api.post('/v1/auth/login', { email, password, session: 'cookie' });
    await signedIn(query.get('next'));
  });
  return html`
    <${Page} title=${t('signin.title')}>
      <form class="form" onSubmit=${s.onSubmit} novalidate aria-busy=${s.busy ? 'true' : 'false'}>
        <${FormError} error=${s.error} />
        <${Field} name="email" type="email" label=${t('field.email')} value=${email} onInput=${setEmail}
          autocomplete="username" required error=${s.fields.email} />
        <${Field} name="password" type="password" label=${t('field.password')} value=${password} onInput=${setPassword}
          autocomplete="current-password" required error=${s.fields.password} />
        <button class="button" type="submit">${s.busy ? t('signin.busy') : t('signin.submit')}</button>
      </form>
      <p><a href="/forgot-password">${t('signin.forgot')}</a></p>
      <p>${t('signin.new')} <a href="/sign-up">${t('signin.signup')}</a></p>
    <//>`;
}
