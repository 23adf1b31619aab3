// A campaign in the console: its progress and tiers, closing it early
// (after a confirmation), importing a HelloAsso or generic CSV export
// (the file is previewed first: the report, with each bad line and why, is
// shown before anything is applied), and its contributions with their
// CSV export.
import { html, useState, useRef } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { ConsoleFrame, useConsoleSite, Facts } from '../lib/console.js';
import { FormError } from '../lib/forms.js';
import { useLoad, useFocusWhen } from '../lib/wallet.js';
import { formatDate, formatPrice } from '../lib/format.js';
import { Progress, reasonWords, columnWords } from '../lib/console-c.js';

function tierWords(tier, t, lang) {
  const credit = tier.credit_unit === 'cents'
    ? t('consolec.tier.credit.cents', { amount: formatPrice(tier.credit_amount, lang) })
    : t('consolec.tier.credit.minutes', { hours: String(tier.credit_amount / 60).replace('.', lang === 'en' ? '.' : ','), kind: t(`consoleb.rkind.${tier.resource_kind}`).toLowerCase() });
  return t('consolec.tier.words', { name: tier.name, min: formatPrice(tier.min_cents, lang), credit });
}

function Close({ campaign, onClosed }) {
  const { t, api, announce } = useApp();
  const [asking, setAsking] = useState(false);
  const [state, setState] = useState({ busy: false, error: null });
  const ref = useFocusWhen(asking);
  if (campaign.status !== 'open') {
    return null;
  }
  const close = async () => {
    setState({ busy: true, error: null });
    try {
      const c = await api.post(`/v1/campaigns/${campaign.id}/close`, {});
      announce(t('consolec.closed', { status: t(`consolec.status.${c.status}`) }));
      setAsking(false);
      setState({ busy: false, error: null });
      onClosed();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return html`
    <section class="card consoleb-section" aria-labelledby="close-title">
      <h2 id="close-title">${t('consolec.close')}</h2>
      <p class="hint">${t(campaign.mode === 'all_or_nothing' ? 'consolec.close.hint.aon' : 'consolec.close.hint.kia')}</p>
      <${FormError} error=${state.error} />
      ${!asking && html`<button class="button button--secondary" type="button" onClick=${() => setAsking(true)}>${t('consolec.close.ask')}</button>`}
      ${asking && html`
        <div class="consoleb-inline" role="group" aria-labelledby="close-confirm" tabindex="-1" ref=${ref}>
          <p id="close-confirm">${t('consolec.close.confirm', { title: campaign.title })}</p>
          <div class="consoleb-actions">
            <button class="button" type="button" onClick=${close}>${state.busy ? t('consoleb.busy') : t('consolec.close.yes')}</button>
            <button class="button button--secondary" type="button" onClick=${() => setAsking(false)}>${t('consolec.close.no')}</button>
          </div>
        </div>`}
    </section>`;
}

function LinesTable({ caption, lines }) {
  const { t } = useApp();
  return html`
    <div class="consoleb-scroll">
      <table class="consoleb-table">
        <caption>${caption}</caption>
        <thead><tr><th scope="col">${t('consolec.import.line')}</th><th scope="col">${t('consolec.import.column')}</th><th scope="col">${t('consolec.import.reason')}</th></tr></thead>
        <tbody>
          ${lines.map((l, i) => html`<tr key=${i}><td>${t('consolec.import.line_n', { n: l.line })}</td><td>${columnWords(l.column, t)}</td><td>${reasonWords(l.reason, t)}</td></tr>`)}
        </tbody>
      </table>
    </div>`;
}

function Report({ report, applied }) {
  const { t } = useApp();
  const facts = [
    [t('consolec.import.format'), t(`consolec.import.format.${report.format}`)],
    [t('consolec.import.rows'), String(report.rows)],
    [applied ? t('consolec.import.created') : t('consolec.import.would_create'), String(report.created)],
    [t('consolec.import.duplicates'), String(report.duplicates)],
    [t('consolec.import.matched'), String(report.matched_members)],
    [t('consolec.import.held'), String(report.held)],
  ];
  return html`
    <${Facts} items=${facts} />
    ${report.skipped.length > 0 && html`<${LinesTable} caption=${t('consolec.import.skipped')} lines=${report.skipped} />`}`;
}

function Import({ campaign, onApplied }) {
  const { t, api, announce } = useApp();
  const [file, setFile] = useState(null);
  const [state, setState] = useState({ step: 'pick' });
  const input = useRef(null);
  const resultRef = useFocusWhen(state.step !== 'pick' && !state.busy);
  const pick = (e) => {
    setFile(e.target.files[0] || null);
    setState({ step: 'pick' });
  };
  const send = async (apply) => {
    if (!file || state.busy) {
      return;
    }
    setState({ ...state, busy: true, error: null });
    const path = `/v1/campaigns/${campaign.id}/imports${apply ? '' : '/preview'}`;
    try {
      const report = await api.postRaw(path, file, 'text/csv', { idempotent: apply });
      if (apply) {
        announce(t('consolec.import.done', { n: report.created }));
        setState({ step: 'applied', report });
        setFile(null);
        if (input.current) {
          input.current.value = '';
        }
        onApplied();
      } else {
        setState({ step: 'previewed', report });
      }
    } catch (error) {
      const lines = error.problem && Array.isArray(error.problem.lines) ? error.problem.lines : null;
      setState({ step: lines ? 'rejected' : 'pick', lines, error: lines ? null : error });
    }
  };
  return html`
    <section class="card consoleb-section" aria-labelledby="import-title">
      <h2 id="import-title">${t('consolec.import')}</h2>
      <p class="hint" id="import-hint">${t('consolec.import.hint')}</p>
      <div class="field">
        <label for="import-file">${t('consolec.import.file')}</label>
        <input id="import-file" type="file" accept=".csv,text/csv" ref=${input} onChange=${pick} aria-describedby="import-hint" />
      </div>
      <${FormError} error=${state.error} />
      <div class="consoleb-actions">
        <button class="button button--secondary" type="button" disabled=${!file} onClick=${() => send(false)}>
          ${state.busy && state.step === 'pick' ? t('consoleb.busy') : t('consolec.import.preview')}</button>
      </div>
      ${!state.busy && state.step === 'rejected' && html`
        <div class="consoleb-inline" tabindex="-1" ref=${resultRef}>
          <p class="alert alert--error" role="alert">${t('consolec.import.rejected', { n: state.lines.length })}</p>
          <${LinesTable} caption=${t('consolec.import.bad_lines')} lines=${state.lines} />
        </div>`}
      ${state.step === 'previewed' && html`
        <div class="consoleb-inline" tabindex="-1" ref=${resultRef} aria-labelledby="import-preview-title" role="group">
          <h3 id="import-preview-title">${t('consolec.import.preview_title')}</h3>
          <p>${t('consolec.import.nothing_yet')}</p>
          <${Report} report=${state.report} applied=${false} />
          <button class="button" type="button" onClick=${() => send(true)}>${state.busy ? t('consoleb.busy') : t('consolec.import.apply')}</button>
        </div>`}
      ${!state.busy && state.step === 'applied' && html`
        <div class="consoleb-inline" tabindex="-1" ref=${resultRef} role="group" aria-labelledby="import-result-title">
          <h3 id="import-result-title">${t('consolec.import.result_title')}</h3>
          <${Report} report=${state.report} applied=${true} />
        </div>`}
    </section>`;
}

function Contributions({ campaign, site, version }) {
  const { t, api, lang } = useApp();
  const s = useLoad(() => api.get(`/v1/campaigns/${campaign.id}/contributions?limit=100`), [campaign.id, version]);
  // The pages after the first, shown below it (the list reloads whole
  // after an import).
  const [more, setMore] = useState({ key: null, items: [], cursor: null, busy: false, error: null });
  const fresh = more.key === s.data;
  const items = s.data ? [...s.data.items, ...(fresh ? more.items : [])] : [];
  const cursor = s.data ? (fresh && more.cursor !== null ? more.cursor : s.data.next_cursor) : '';
  const next = async () => {
    setMore({ ...more, busy: true, error: null });
    try {
      const page = await api.get(`/v1/campaigns/${campaign.id}/contributions?limit=100&cursor=${encodeURIComponent(cursor)}`);
      setMore({ key: s.data, items: [...(fresh ? more.items : []), ...page.items], cursor: page.next_cursor || '', busy: false, error: null });
    } catch (error) {
      setMore({ ...more, busy: false, error });
    }
  };
  return html`
    <section class="card consoleb-section" aria-labelledby="contributions-title">
      <h2 id="contributions-title">${t('consolec.contributions')}</h2>
      <p><a class="button button--secondary" href="/v1/campaigns/${campaign.id}/contributions.csv" download>${t('consolec.contributions.csv')}</a></p>
      ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
      ${s.error && html`<${FormError} error=${s.error} />`}
      ${s.data && items.length === 0 && html`<p class="empty">${t('consolec.contributions.none')}</p>`}
      ${s.data && items.length > 0 && html`
        <div class="consoleb-scroll">
          <table class="consoleb-table">
            <caption>${t('consolec.contributions.caption', { n: items.length })}</caption>
            <thead><tr>
              <th scope="col">${t('consolec.contributions.receipt')}</th><th scope="col">${t('consolec.contributions.who')}</th>
              <th scope="col">${t('consolec.contributions.amount')}</th><th scope="col">${t('consolec.contributions.when')}</th>
              <th scope="col">${t('consolec.contributions.source')}</th><th scope="col">${t('consolec.contributions.status')}</th>
            </tr></thead>
            <tbody>
              ${items.map((k) => html`<tr key=${k.id}>
                <td>${k.receipt_number}</td><td>${k.name || k.email}${k.name ? html`<br /><small>${k.email}</small>` : ''}</td>
                <td>${formatPrice(k.amount_cents, lang)}</td><td>${formatDate(k.contributed_at, lang, site.timezone)}</td>
                <td>${t(`consolec.platform.${k.platform}`)}</td>
                <td>${t(`consolec.cstatus.${k.status}`)}${k.user_id ? '' : html`<br /><small>${t('consolec.contributions.held')}</small>`}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>`}
      <${FormError} error=${more.error} />
      ${s.data && cursor && html`<button class="button button--secondary" type="button" onClick=${next}>
        ${more.busy ? t('consoleb.busy') : t('consolec.contributions.more')}</button>`}
    </section>`;
}

function CampaignOf({ site, id }) {
  const { t, api, lang } = useApp();
  const s = useLoad(() => api.get(`/v1/campaigns/${id}`), [id]);
  const [version, setVersion] = useState(0);
  if (!s.data) {
    return s.error ? html`<${FormError} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`;
  }
  const c = s.data;
  const changed = () => {
    s.reload();
    setVersion(version + 1);
  };
  return html`
    <p><a href="/console/campaigns">${t('consolec.back')}</a></p>
    <section class="card consoleb-section" aria-labelledby="campaign-title">
      <h2 id="campaign-title">${c.title}</h2>
      ${c.description && html`<p>${c.description}</p>`}
      <${Progress} campaign=${c} id="campaign-progress" />
      <${Facts} items=${[
        [t('consolec.field.status'), t(`consolec.status.${c.status}`)],
        [t('consolec.field.mode'), t(`consolec.mode.${c.mode}`)],
        [t('consolec.field.deadline'), formatDate(c.deadline, lang, site.timezone)],
        [t('consolec.public'), html`<a href="/campaigns/${c.id}">${t('consolec.public.link')}</a>`],
      ]} />
      <h3>${t('consolec.tiers')}</h3>
      ${c.tiers.length === 0 ? html`<p class="empty">${t('consolec.tiers.none')}</p>` : html`
        <ul>${c.tiers.map((x, i) => html`<li key=${i}>${tierWords(x, t, lang)}</li>`)}</ul>`}
    </section>
    <${Close} campaign=${c} onClosed=${changed} />
    ${c.status === 'open' && html`<${Import} campaign=${c} onApplied=${changed} />`}
    <${Contributions} campaign=${c} site=${site} version=${version} />`;
}

export default function ConsoleCampaign({ params }) {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('consolec.campaign.title')} current="/console/campaigns" cs=${cs}>
      <${CampaignOf} key=${params.id} site=${cs.site} id=${params.id} />
    <//>`;
}
