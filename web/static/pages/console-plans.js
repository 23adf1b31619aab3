// The console's plans page: the memberships, day passes and packs of the
// site, on sale or withdrawn, what each includes, a new one put on sale,
// and withdrawing one from sale (or putting it back). The API keeps a
// plan's contents fixed once sold (its holders bought them): a different
// offer is a new plan, and the old one is withdrawn.
import { html, useState, useEffect, useRef } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice } from '../lib/format.js';
import { useSite, SitePicker, SiteGate, Problem, useLoad, ConsoleNavB } from '../lib/console-b.js';

const kinds = ['membership', 'day_pass', 'pack'];
// kindsOf: what may be sold on a site, or network-wide (site null).
const kindsOf = (site) => (site ? kinds : kinds.filter((k) => k !== 'day_pass'));
const resourceKinds = ['desk', 'room', 'zone', 'machine'];
const doors = ['opening_hours', '24_7', 'none'];

function includesText(p, t, lang) {
  const inc = p.includes || {};
  const parts = [];
  if ((inc.resource_kinds || []).length) {
    parts.push(t('consoleb.plans.kinds_text', { kinds: inc.resource_kinds.map((k) => t(`consoleb.rkind.${k}`)).join(', ') }));
  }
  for (const a of inc.allowances || []) {
    parts.push(t('consoleb.plans.allowance_text', { kind: t(`consoleb.rkind.${a.resource_kind}`), hours: String(a.minutes_per_period / 60).replace('.', ',') }));
  }
  if (p.kind === 'pack' && inc.pack_minutes) {
    parts.push(t('consoleb.plans.pack_text', { kind: t(`consoleb.rkind.${inc.pack_resource_kind}`), hours: String(inc.pack_minutes / 60).replace('.', ','), days: inc.pack_valid_days }));
  }
  if (p.kind !== 'pack') {
    parts.push(t(`consoleb.door.${inc.door_access || 'opening_hours'}`));
  }
  if (inc.pay_per_use) {
    parts.push(t('consoleb.plans.pay_per_use'));
  }
  return `${formatPrice(p.price_cents, lang)} · ${parts.join(' · ')}`;
}

const blank = {
  kind: 'membership', name: '', description: '', price: '', door_access: 'opening_hours', pay_per_use: false,
  resource_kinds: [], allowance_kind: '', allowance_hours: '', pack_resource_kind: 'machine', pack_hours: '10', pack_valid_days: '365',
};

function hours(minutes) {
  return String(minutes / 60).replace('.', ',');
}

// formOf: the form's fields filled from an existing plan, to put a new
// version of it on sale (the API never changes what a plan includes:
// its holders bought it as it was).
function formOf(p) {
  const inc = p.includes || {};
  const a = (inc.allowances || [])[0];
  return {
    ...blank, kind: p.kind, name: p.name, description: p.description || '', price: (p.price_cents / 100).toFixed(2).replace('.', ','),
    door_access: inc.door_access || 'opening_hours', pay_per_use: Boolean(inc.pay_per_use), resource_kinds: inc.resource_kinds || [],
    allowance_kind: a ? a.resource_kind : '', allowance_hours: a ? hours(a.minutes_per_period) : '',
    pack_resource_kind: inc.pack_resource_kind || 'machine', pack_hours: inc.pack_minutes ? hours(inc.pack_minutes) : '10',
    pack_valid_days: String(inc.pack_valid_days || 365),
  };
}

function NewPlan({ site, from, onDone }) {
  const { t, api, announce } = useApp();
  const [v, setV] = useState(() => (from ? formOf(from) : blank));
  const heading = useRef(null);
  useEffect(() => {
    if (from && heading.current) {
      heading.current.focus();
    }
  }, [from]);
  const [state, setState] = useState({ busy: false, error: null });
  const set = (k) => (e) => setV({ ...v, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const toggleKind = (k) => setV({ ...v, resource_kinds: v.resource_kinds.includes(k) ? v.resource_kinds.filter((x) => x !== k) : [...v.resource_kinds, k] });
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    const includes = {};
    if (v.kind === 'pack') {
      Object.assign(includes, {
        pack_resource_kind: v.pack_resource_kind, pack_minutes: Math.round(Number(v.pack_hours.replace(',', '.')) * 60) || 0,
        pack_valid_days: Number(v.pack_valid_days) || 0,
      });
    } else {
      Object.assign(includes, { resource_kinds: v.resource_kinds, door_access: v.door_access, pay_per_use: v.pay_per_use });
      if (v.kind === 'membership' && v.allowance_kind && v.allowance_hours) {
        includes.allowances = [{ resource_kind: v.allowance_kind, minutes_per_period: Math.round(Number(v.allowance_hours.replace(',', '.')) * 60) }];
      }
    }
    const cents = Math.round(Number(v.price.replace(',', '.').replace(/\s/g, '')) * 100);
    setState({ busy: true, error: null });
    try {
      const p = await api.post('/v1/plans', {
        site_id: site ? site.id : null, kind: v.kind, name: v.name.trim(), description: v.description.trim(), price_cents: Number.isFinite(cents) ? cents : -1, includes,
      }, { idempotent: true });
      setState({ busy: false, error: null });
      setV(blank);
      announce(t('consoleb.plans.created', { name: p.name }));
      onDone();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const f = state.error && state.error.fields ? state.error.fields : {};
  const err = (k) => f[k] || f[`includes.${k}`];
  const input = (k, field, label, props = {}) => html`
    <div class="field ${err(field) ? 'field--invalid' : ''}">
      <label for="plan-${k}">${label}</label>
      <input id="plan-${k}" value=${v[k]} onInput=${set(k)} aria-invalid=${err(field) ? 'true' : undefined}
        aria-describedby=${err(field) ? `plan-${k}-error` : undefined} ...${props} />
      ${err(field) && html`<p class="field-error" id="plan-${k}-error">${err(field)}</p>`}
    </div>`;
  return html`
    <form class="form card consoleb-section" onSubmit=${submit} novalidate aria-labelledby="new-plan-title">
      <h2 id="new-plan-title" tabindex="-1" ref=${heading}>${from ? t('consoleb.plans.new_version', { name: from.name }) : t('consoleb.plans.new')}</h2>
      ${from && html`<p class="hint">${t('consoleb.plans.version_hint')}</p>`}
      ${state.error && html`<${Problem} error=${state.error} />`}
      <div class="field"><label for="plan-kind">${t('consoleb.plans.kind')}</label>
        <select id="plan-kind" value=${v.kind} onChange=${set('kind')}>
          ${kindsOf(site).map((k) => html`<option key=${k} value=${k}>${t(`consoleb.pkind.${k}`)}</option>`)}</select></div>
      ${input('name', 'name', t('consoleb.plans.name'), { required: true })}
      ${input('description', 'description', t('consoleb.plans.description'))}
      ${input('price', 'price_cents', t('consoleb.plans.price'), { inputmode: 'decimal' })}
      ${v.kind !== 'pack' && html`
        <fieldset class="consoleb-kinds"><legend>${t('consoleb.plans.kinds')}</legend>
          ${resourceKinds.map((k) => html`<div class="field field--check" key=${k}>
            <input id="plan-rk-${k}" type="checkbox" checked=${v.resource_kinds.includes(k)} onChange=${() => toggleKind(k)} />
            <label for="plan-rk-${k}">${t(`consoleb.rkind.${k}`)}</label></div>`)}
        </fieldset>
        <div class="field"><label for="plan-door_access">${t('consoleb.plans.door')}</label>
          <select id="plan-door_access" value=${v.door_access} onChange=${set('door_access')}>
            ${doors.map((d) => html`<option key=${d} value=${d}>${t(`consoleb.door.${d}`)}</option>`)}</select></div>
        <div class="field field--check"><input id="plan-pay_per_use" type="checkbox" checked=${v.pay_per_use} onChange=${set('pay_per_use')} />
          <label for="plan-pay_per_use">${t('consoleb.plans.pay_per_use_label')}</label></div>`}
      ${v.kind === 'membership' && html`
        <div class="field"><label for="plan-allowance_kind">${t('consoleb.plans.allowance_kind')}</label>
          <select id="plan-allowance_kind" value=${v.allowance_kind} onChange=${set('allowance_kind')}>
            <option value="">${t('consoleb.plans.no_allowance')}</option>
            ${resourceKinds.map((k) => html`<option key=${k} value=${k}>${t(`consoleb.rkind.${k}`)}</option>`)}</select></div>
        ${v.allowance_kind && input('allowance_hours', 'allowances', t('consoleb.plans.allowance_hours'), { inputmode: 'decimal' })}`}
      ${v.kind === 'pack' && html`
        <div class="field"><label for="plan-pack_resource_kind">${t('consoleb.plans.pack_kind')}</label>
          <select id="plan-pack_resource_kind" value=${v.pack_resource_kind} onChange=${set('pack_resource_kind')}>
            ${resourceKinds.map((k) => html`<option key=${k} value=${k}>${t(`consoleb.rkind.${k}`)}</option>`)}</select></div>
        ${input('pack_hours', 'pack_minutes', t('consoleb.plans.pack_hours'), { inputmode: 'decimal' })}
        ${input('pack_valid_days', 'pack_valid_days', t('consoleb.plans.pack_days'), { type: 'number', min: 1 })}`}
      <button class="button" type="submit">${state.busy ? t('consoleb.busy') : t('consoleb.plans.create')}</button>
    </form>`;
}

function PlanRow({ plan, onChange, onCopy }) {
  const { t, lang, api, announce } = useApp();
  const [error, setError] = useState(null);
  const toggle = async () => {
    setError(null);
    try {
      const p = await api.patch(`/v1/plans/${plan.id}`, { active: !plan.active });
      announce(t(p.active ? 'consoleb.plans.back_on_sale' : 'consoleb.plans.withdrawn', { name: p.name }));
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  return html`
    <li class="consoleb-row" key=${plan.id}>
      <h3>${plan.name}</h3>
      <p>${t(`consoleb.pkind.${plan.kind}`)} · <span class="badge ${plan.active ? 'badge--ok' : ''}">${plan.active ? t('consoleb.plans.on_sale') : t('consoleb.plans.off_sale')}</span></p>
      <p>${includesText(plan, t, lang)}</p>
      ${plan.description && html`<p>${plan.description}</p>`}
      <div class="consoleb-actions">
        <button class="button button--secondary" type="button" onClick=${toggle}
          aria-label=${t(plan.active ? 'consoleb.plans.withdraw_label' : 'consoleb.plans.restore_label', { name: plan.name })}>
          ${plan.active ? t('consoleb.plans.withdraw') : t('consoleb.plans.restore')}</button>
        <button class="button button--secondary" type="button" onClick=${() => onCopy(plan)}
          aria-label=${t('consoleb.plans.copy_label', { name: plan.name })}>${t('consoleb.plans.copy')}</button>
      </div>
      ${error && html`<${Problem} error=${error} />`}
    </li>`;
}

// Plans: a site's plans, or with site null the network's (admins'):
// valid on every site; a day pass is always a site's.
export function Plans({ site }) {
  const { t, api } = useApp();
  const s = useLoad(() => api.get(site ? `/v1/plans?site_id=${site.id}&include_inactive=true` : '/v1/plans?include_inactive=true'), [site && site.id]);
  const [copy, setCopy] = useState({ from: null, n: 0 });
  if (!s.data) {
    return s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`;
  }
  const mine = s.data.items.filter((p) => (site ? p.site_id === site.id : !p.site_id));
  return html`
    ${kindsOf(site).map((k) => {
      const list = mine.filter((p) => p.kind === k);
      return html`<section class="card consoleb-section" aria-labelledby="plans-${k}" key=${k}>
        <h2 id="plans-${k}">${t(`consoleb.plans.group.${k}`)}</h2>
        ${list.length === 0 ? html`<p class="empty">${t('consoleb.plans.none')}</p>` : html`
          <ul class="consoleb-rows">${list.map((p) => html`<${PlanRow} key=${p.id} plan=${p} onChange=${s.reload}
            onCopy=${(from) => setCopy({ from, n: copy.n + 1 })} />`)}</ul>`}
      </section>`;
    })}
    <${NewPlan} key=${copy.n} site=${site} from=${copy.from} onDone=${() => { setCopy({ from: null, n: copy.n + 1 }); s.reload(); }} />`;
}

export default function ConsolePlans() {
  const { t } = useApp();
  const state = useSite();
  return html`
    <${Page} title=${t('consoleb.plans.title')} wide>
      <${ConsoleNavB} current="/console/plans" />
      <${SitePicker} state=${state} />
      <${SiteGate} state=${state}>${(site) => html`<${Plans} key=${site.id} site=${site} />`}<//>
    <//>`;
}
