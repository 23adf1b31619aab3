// The target of the link mailed at registration and at an email change:
// PUBLIC_URL/verify-email?token=….
import { html, useState, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { errorText } from '../lib/forms.js';

export default function VerifyEmail({ query }) {
  const { t, api, me, refreshMe } = useApp();
  const token = query.get('token') || '';
  const [state, setState] = useState({ status: token ? 'working' : 'missing' });
  useEffect(() => {
    if (!token) {
      return;
    }
    api.post('/v1/auth/verify-email', { token }).then(
      async (user) => {
        if (me) {
          await refreshMe();
        }
        setState({ status: 'done', email: user.email });
      },
      (error) => setState({ status: 'failed', error }),
    );
  }, [token]);
  const next = me ? html`<a class="button" href="/">${t('verify.home')}</a>` : html`<a class="button" href="/sign-in">${t('verify.signin')}</a>`;
  return html`
    <${Page} title=${t('verify.title')}>
      ${state.status === 'working' && html`<p role="status">${t('verify.working')}</p>`}
      ${state.status === 'done' && html`<div class="alert alert--success" role="status">${t('verify.done', { email: state.email })}</div><p>${next}</p>`}
      ${state.status === 'failed' && html`<div class="alert alert--error" role="alert">${errorText(state.error, t)}</div>
        <p>${t('verify.again')}</p>`}
      ${state.status === 'missing' && html`<div class="alert alert--error" role="alert">${t('verify.missing')}</div>`}
    <//>`;
}
