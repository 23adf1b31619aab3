// The console's campaigns: the site's crowdfunding campaigns with their
// progress, and a new one with its tiers (what a contribution of at least
// so much grants: money to spend, or hours of a kind of resource).
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { ConsoleFrame, useConsoleSite, zonedInstant } from '../lib/console.js';
import { FormError } from '../lib/forms.js';
import { useLoad } from '../lib/wallet.js';
import { navigate } from '../lib/router.js';
import { formatDate } from '../lib/format.js';
import { Progress, toCents } from '../lib/console-c.js';

const kinds = ['machine', 'room', 'desk', 'zone'];

const blankTier = () => ({ name: '', min: '', unit: 'cents', amount: '', kind: 'machine', days: '' });

// tierBody: a tier's form in the API's terms; cents stay NaN-free (-1)
// so that the API names the field that is wrong.
function tierBody(x) {
  const min = toCents(x.min);
  const body = { name: x.name.trim(), min_cents: Number.isFinite(min) ? min : -1, credit_unit: x.unit };
  if (x.unit === 'cents') {
    const c = toCents(x.amount);
    body.credit_amount = Number.isFinite(c) ? c : -1;
  } else {
    const h = Number(String(x.amount).replace(',', '.'));
    body.credit_amount = Number.isFinite(h) && h > 0 ? Math.round(h * 60) : -1;
    body.resource_kind = x.kind;
  }
  body.expires_after_days = x.days === '' ? 0 : Math.max(-1, Math.floor(Number(x.days)) || -1);
  return body;
}

function TierFields({ i, tier, set, remove, fields }) {
  const { t } = useApp();
  const f = (k) => fields[`tiers[${i}].${k}`];
  const id = (k) => `tier-${i}-${k}`;
  const input = (k, apiField, label, props = {}) => html`
    <div class="field ${f(apiField) ? 'field--invalid' : ''}">
      <label for=${id(k)}>${label}</label>
      <input id=${id(k)} value=${tier[k]} onInput=${(e) => set({ ...tier, [k]: e.target.value })}
        aria-invalid=${f(apiField) ? 'true' : undefined} aria-describedby=${f(apiField) ? `${id(k)}-error` : undefined} ...${props} />
      ${f(apiField) && html`<p class="field-error" id="${id(k)}-error">${f(apiField)}</p>`}
    </div>`;
  return html`
    <fieldset class="consoleb-rules consolec-tier">
      <legend>${t('consolec.tier.legend', { n: i + 1 })}</legend>
      ${input('name', 'name', t('consolec.tier.name'))}
      ${input('min', 'min_cents', t('consolec.tier.min'), { inputmode: 'decimal' })}
      <div class="field">
        <label for=${id('unit')}>${t('consolec.tier.unit')}</label>
        <select id=${id('unit')} value=${tier.unit} onChange=${(e) => set({ ...tier, unit: e.target.value })}>
          <option value="cents">${t('consolec.tier.unit.cents')}</option>
          <option value="minutes">${t('consolec.tier.unit.minutes')}</option>
        </select>
      </div>
      ${tier.unit === 'minutes' && html`
        <div class="field">
          <label for=${id('kind')}>${t('consolec.tier.kind')}</label>
          <select id=${id('kind')} value=${tier.kind} onChange=${(e) => set({ ...tier, kind: e.target.value })}>
            ${kinds.map((k) => html`<option key=${k} value=${k}>${t(`consoleb.rkind.${k}`)}</option>`)}
          </select>
        </div>`}
      ${input('amount', 'credit_amount', tier.unit === 'cents' ? t('consolec.tier.amount.cents') : t('consolec.tier.amount.minutes'), { inputmode: 'decimal' })}
      ${input('days', 'expires_after_days', t('consolec.tier.days'), { inputmode: 'numeric' })}
      <button class="button button--secondary" type="button" onClick=${remove}>${t('consolec.tier.remove', { n: i + 1 })}</button>
    </fieldset>`;
}

function NewCampaign({ site, onDone }) {
  const { t, api, announce } = useApp();
  const [v, setV] = useState({ title: '', description: '', goal: '', day: '', time: '23:00', mode: 'all_or_nothing' });
  const [tiers, setTiers] = useState([blankTier()]);
  const [state, setState] = useState({ busy: false, error: null });
  const set = (k) => (e) => setV({ ...v, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    const goal = toCents(v.goal);
    const body = {
      title: v.title.trim(), description: v.description.trim(), goal_cents: Number.isFinite(goal) ? goal : -1, mode: v.mode,
      tiers: tiers.map(tierBody),
    };
    if (/^\d{4}-\d{2}-\d{2}$/.test(v.day) && /^\d{2}:\d{2}$/.test(v.time)) {
      body.deadline = zonedInstant(v.day, v.time, site.timezone).toISOString();
    }
    setState({ busy: true, error: null });
    try {
      const c = await api.post(`/v1/sites/${site.id}/campaigns`, body, { idempotent: true });
      announce(t('consolec.created', { title: c.title }));
      onDone(c);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const fields = (state.error && state.error.fields) || {};
  const input = (k, apiField, label, props = {}) => html`
    <div class="field ${fields[apiField] ? 'field--invalid' : ''}">
      <label for="campaign-${k}">${label}</label>
      ${props.hint && html`<p class="hint" id="campaign-${k}-hint">${props.hint}</p>`}
      <input id="campaign-${k}" value=${v[k]} onInput=${set(k)} aria-invalid=${fields[apiField] ? 'true' : undefined}
        aria-describedby=${[props.hint && `campaign-${k}-hint`, fields[apiField] && `campaign-${k}-error`].filter(Boolean).join(' ') || undefined}
        type=${props.type || 'text'} inputmode=${props.inputmode} />
      ${fields[apiField] && html`<p class="field-error" id="campaign-${k}-error">${fields[apiField]}</p>`}
    </div>`;
  return html`
    <form class="form card consoleb-section" onSubmit=${submit} novalidate aria-labelledby="new-campaign-title">
      <h2 id="new-campaign-title">${t('consolec.new')}</h2>
      <${FormError} error=${state.error} />
      ${input('title', 'title', t('consolec.field.title'))}
      ${input('description', 'description', t('consolec.field.description'))}
      ${input('goal', 'goal_cents', t('consolec.field.goal'), { inputmode: 'decimal', hint: t('consolec.field.goal.hint') })}
      ${input('day', 'deadline', t('consolec.field.deadline'), { type: 'date' })}
      ${input('time', 'deadline', t('consolec.field.deadline_time'), { type: 'time' })}
      <div class="field">
        <label for="campaign-mode">${t('consolec.field.mode')}</label>
        <p class="hint" id="campaign-mode-hint">${t('consolec.field.mode.hint')}</p>
        <select id="campaign-mode" value=${v.mode} onChange=${set('mode')} aria-describedby="campaign-mode-hint">
          <option value="all_or_nothing">${t('consolec.mode.all_or_nothing')}</option>
          <option value="keep_it_all">${t('consolec.mode.keep_it_all')}</option>
        </select>
      </div>
      <h3>${t('consolec.tiers')}</h3>
      <p class="hint">${t('consolec.tiers.hint')}</p>
      ${tiers.map((x, i) => html`<${TierFields} key=${i} i=${i} tier=${x} fields=${fields}
        set=${(nx) => setTiers(tiers.map((y, j) => (j === i ? nx : y)))}
        remove=${() => setTiers(tiers.filter((_, j) => j !== i))} />`)}
      <div class="consoleb-actions">
        <button class="button button--secondary" type="button" onClick=${() => setTiers([...tiers, blankTier()])}>${t('consolec.tier.add')}</button>
        <button class="button" type="submit">${state.busy ? t('consoleb.busy') : t('consolec.create')}</button>
      </div>
    </form>`;
}

function Campaigns({ site }) {
  const { t, api, lang } = useApp();
  const s = useLoad(() => api.get(`/v1/sites/${site.id}/campaigns`), [site.id]);
  const [creating, setCreating] = useState(false);
  return html`
    <section class="card consoleb-section" aria-labelledby="campaigns-title">
      <h2 id="campaigns-title">${t('consolec.list')}</h2>
      ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
      ${s.error && html`<${FormError} error=${s.error} />`}
      ${s.data && s.data.items.length === 0 && html`<p class="empty">${t('consolec.none')}</p>`}
      ${s.data && s.data.items.length > 0 && html`
        <ul class="consoleb-rows">
          ${s.data.items.map((c) => html`
            <li class="consoleb-row" key=${c.id}>
              <h3><a href="/console/campaigns/${c.id}">${c.title}</a></h3>
              <p><span class="badge ${c.status === 'open' ? 'badge--ok' : ''}">${t(`consolec.status.${c.status}`)}</span>
                · ${t('consolec.deadline', { date: formatDate(c.deadline, lang, site.timezone) })}</p>
              <${Progress} campaign=${c} id="progress-${c.id}" />
            </li>`)}
        </ul>`}
      ${!creating && html`<button class="button" type="button" onClick=${() => setCreating(true)}>${t('consolec.new')}</button>`}
    </section>
    ${creating && html`<${NewCampaign} site=${site} onDone=${(c) => navigate(`/console/campaigns/${c.id}`)} />`}`;
}

export default function ConsoleCampaigns() {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('consolec.campaigns.title')} current="/console/campaigns" cs=${cs}>
      <${Campaigns} key=${cs.site && cs.site.id} site=${cs.site} />
    <//>`;
}
