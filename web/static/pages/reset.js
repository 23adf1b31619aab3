// The target of the password reset mail: PUBLIC_URL/reset-password?token=….
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { Field, FormError, useSubmit } from '../lib/forms.js';

export default function ResetPassword({ query }) {
  const { t, api, me, signedOut } = useApp();
  const token = query.get('token') || '';
  const [password, setPassword] = useState('');
  const s = useSubmit(async () => {
    await api.post('/v1/auth/password-reset/confirm', { token, new_password: password });
    // The new password ends every session of the account, this one too.
    if (me) {
      signedOut();
    }
  });
  if (!token) {
    return html`
      <${Page} title=${t('reset.title')}>
        <div class="alert alert--error" role="alert">${t('reset.missing')}</div>
        <p><a href="/forgot-password">${t('reset.again')}</a></p>
      <//>`;
  }
  if (s.done) {
    return html`
      <${Page} title=${t('reset.done.title')}>
        <p role="status">${t('reset.done.text')}</p>
        <p><a class="button" href="/sign-in">${t('reset.done.signin')}</a></p>
      <//>`;
  }
  return html`
    <${Page} title=${t('reset.title')}>
      <form class="form" onSubmit=${s.onSubmit} novalidate aria-busy=${s.busy ? 'true' : 'false'}>
        <${FormError} error=${s.error} />
        <${Field} name="new_password" type="password" label=${t('field.new_password')} value=${password} onInput=${setPassword}
          autocomplete="new-password" required hint=${t('field.password.hint')} error=${s.fields.new_password || s.fields.token} />
        <button class="button" type="submit">${t('reset.submit')}</button>
      </form>
      ${s.fields.token && html`<p><a href="/forgot-password">${t('reset.again')}</a></p>`}
    <//>`;
}
