// My qualifications: the trainings the member holds, until when, and the
// machines each lets them book (GET /v1/me/qualifications).
import { html } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { loadSites, zoneOf, useLoad, Problem, WalletNav, day } from '../lib/wallet.js';

async function loadQualifications(api) {
  const [mine, sites] = await Promise.all([api.get('/v1/me/qualifications'), loadSites(api)]);
  return { items: mine.items, sites };
}

export default function Qualifications() {
  const { t, lang, api } = useApp();
  const s = useLoad(() => loadQualifications(api));
  return html`
    <${Page} title=${t('wallet.qualif.title')} wide>
      <${WalletNav} current="/qualifications" />
      ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
      <${Problem} error=${s.error} />
      ${s.data && s.data.items.length === 0 && html`<p class="empty">${t('wallet.qualif.none')}</p>`}
      ${s.data && s.data.items.length > 0 && html`
        <ul class="cards wallet-list">
          ${s.data.items.map((q) => {
            const site = s.data.sites[q.qualification.site_id];
            const id = `qualif-${q.qualification.id}`;
            return html`
              <li class="card wallet-qualif" key=${q.qualification.id} aria-labelledby=${id}>
                <h2 id=${id}>${q.qualification.name}</h2>
                ${site && html`<p>${site.name}</p>`}
                <p class="badge badge--ok">${q.expires_at
                  ? t('wallet.qualif.until', { date: day(q.expires_at, lang, zoneOf(s.data.sites, q.qualification.site_id)) })
                  : t('wallet.qualif.forever')}</p>
                ${q.qualification.description && html`<p>${q.qualification.description}</p>`}
                <h3>${t('wallet.qualif.machines')}</h3>
                ${q.machines.length === 0
                  ? html`<p>${t('wallet.qualif.no_machine')}</p>`
                  : html`<ul class="wallet-includes">${q.machines.map((m) => html`<li key=${m.id}>${m.name}</li>`)}</ul>`}
              </li>`;
          })}
        </ul>`}
    <//>`;
}
