import { html } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';

export default function NotFound() {
  const { t } = useApp();
  return html`
    <${Page} title=${t('notfound.title')}>
      <p>${t('notfound.text')}</p>
      <p><a href="/">${t('notfound.home')}</a></p>
    <//>`;
}
