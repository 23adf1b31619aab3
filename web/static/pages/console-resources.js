// The console's resources page: the site's opening hours, one row per
// weekday; its desks, rooms, zones and machines with their booking rules,
// prices and qualification, created and edited in one form; and the
// closures of a resource (a room repainted, a machine in repair).
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatPrice, formatDate, formatTime } from '../lib/format.js';
import { useSite, SitePicker, SiteGate, Problem, useLoad, midnight, localDay, ConsoleNavB } from '../lib/console-b.js';

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const kinds = ['desk', 'room', 'zone', 'machine', 'kit'];
const rules = [
  ['slot_minutes', 30], ['min_minutes', 0], ['max_minutes', 0], ['horizon_days', 90], ['min_notice_minutes', 0],
  ['buffer_after_minutes', 0], ['cancel_deadline_minutes', 0], ['late_cancel_refund_percent', 0],
];

// hoursText: one day's intervals as typed, "09:00-12:30, 14:00-19:00".
function hoursText(day) {
  return (day || []).map(([a, b]) => `${a}-${b}`).join(', ');
}

// parseHours reads that text back; null when it cannot.
function parseHours(text) {
  const out = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^(\d{1,2})[:h](\d{2})\s*[-–]\s*(\d{1,2})[:h](\d{2})$/);
    if (!m) {
      return null;
    }
    out.push([`${m[1].padStart(2, '0')}:${m[2]}`, `${m[3].padStart(2, '0')}:${m[4]}`]);
  }
  return out;
}

function OpeningHours({ site, onSaved }) {
  const { t, api, announce } = useApp();
  const [days, setDays] = useState(() => Object.fromEntries(weekdays.map((d) => [d, hoursText(site.opening_hours && site.opening_hours[d])])));
  const [state, setState] = useState({ busy: false, error: null, bad: '' });
  const submit = async (e) => {
    e.preventDefault();
    const hours = {};
    for (const d of weekdays) {
      const h = parseHours(days[d]);
      if (h === null) {
        setState({ busy: false, error: null, bad: d });
        return;
      }
      hours[d] = h;
    }
    setState({ busy: true, error: null, bad: '' });
    try {
      const updated = await api.patch(`/v1/sites/${site.id}`, { opening_hours: hours });
      setState({ busy: false, error: null, bad: '' });
      announce(t('consoleb.hours.saved'));
      onSaved(updated);
    } catch (error) {
      setState({ busy: false, error, bad: '' });
    }
  };
  return html`
    <form class="form card consoleb-section" onSubmit=${submit} novalidate aria-labelledby="hours-title">
      <h2 id="hours-title">${t('consoleb.hours.title')}</h2>
      <p class="hint" id="hours-hint">${t('consoleb.hours.hint')}</p>
      ${state.error && html`<${Problem} error=${state.error} />`}
      <div class="consoleb-hours">
        ${weekdays.map((d) => html`
          <div class="field ${state.bad === d ? 'field--invalid' : ''}" key=${d}>
            <label for="hours-${d}">${t(`consoleb.day.${d}`)}</label>
            <input id="hours-${d}" value=${days[d]} placeholder=${t('consoleb.hours.closed')} aria-describedby=${state.bad === d ? 'hours-hint hours-error' : 'hours-hint'}
              aria-invalid=${state.bad === d ? 'true' : undefined} onInput=${(e) => setDays({ ...days, [d]: e.target.value })} />
            ${state.bad === d && html`<p class="field-error" id="hours-error" role="alert">${t('consoleb.hours.bad')}</p>`}
          </div>`)}
      </div>
      <button class="button" type="submit">${state.busy ? t('consoleb.busy') : t('consoleb.hours.save')}</button>
    </form>`;
}

function centsText(c) {
  return c === null || c === undefined ? '' : (c / 100).toFixed(2).replace('.', ',');
}

function toCents(s) {
  const v = s.trim().replace(',', '.').replace(/\s/g, '');
  return v === '' ? null : Math.round(Number(v) * 100);
}

// ResourceForm creates a resource (none given) or edits one.
function ResourceForm({ site, resource, qualifications, onDone, onCancel }) {
  const { t, api, announce } = useApp();
  const r = resource || {};
  const [v, setV] = useState(() => ({
    kind: r.kind || 'desk', name: r.name || '', description: r.description || '', capacity: String(r.capacity || 1),
    price: centsText(r.price_per_hour_cents), vat: r.vat_rate_bp === undefined || r.vat_rate_bp === null ? '' : String(r.vat_rate_bp),
    qualification_id: r.qualification_id || '', member_bookable: r.member_bookable !== false,
    ...Object.fromEntries(rules.map(([k, def]) => [k, String(r.rules && r.rules[k] !== undefined ? r.rules[k] : def)])),
  }));
  const [state, setState] = useState({ busy: false, error: null });
  const p = resource ? `edit-${resource.id}` : 'new';
  const set = (k) => (e) => setV({ ...v, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    const body = {
      name: v.name.trim(), description: v.description.trim(), capacity: Number(v.capacity) || 1,
      rules: Object.fromEntries(rules.map(([k]) => [k, Number(v[k]) || 0])),
      price_per_hour_cents: toCents(v.price), vat_rate_bp: v.vat === '' ? null : Number(v.vat),
      member_bookable: v.member_bookable,
    };
    if (v.kind === 'machine') {
      body.qualification_id = v.qualification_id || null;
    }
    setState({ busy: true, error: null });
    try {
      const saved = resource
        ? await api.patch(`/v1/resources/${resource.id}`, body)
        : await api.post(`/v1/sites/${site.id}/resources`, { kind: v.kind, ...body }, { idempotent: true });
      setState({ busy: false, error: null });
      announce(t('consoleb.resources.saved', { name: saved.name }));
      onDone(saved);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const f = state.error && state.error.fields ? state.error.fields : {};
  const err = (k) => f[k] || f[`rules.${k}`];
  const input = (k, label, props = {}) => html`
    <div class="field ${err(k) ? 'field--invalid' : ''}">
      <label for="${p}-${k}">${label}</label>
      <input id="${p}-${k}" value=${v[k]} onInput=${set(k)} aria-invalid=${err(k) ? 'true' : undefined}
        aria-describedby=${err(k) ? `${p}-${k}-error` : undefined} ...${props} />
      ${err(k) && html`<p class="field-error" id="${p}-${k}-error">${err(k)}</p>`}
    </div>`;
  return html`
    <form class="form consoleb-resource-form" onSubmit=${submit} novalidate
      aria-label=${resource ? t('consoleb.resources.edit_label', { name: resource.name }) : t('consoleb.resources.new')}>
      ${state.error && html`<${Problem} error=${state.error} />`}
      ${!resource && html`<div class="field"><label for="${p}-kind">${t('consoleb.resources.kind')}</label>
        <select id="${p}-kind" value=${v.kind} onChange=${set('kind')}>
          ${kinds.map((k) => html`<option key=${k} value=${k}>${t(`consoleb.rkind.${k}`)}</option>`)}</select></div>`}
      ${input('name', t('consoleb.resources.name'), { required: true })}
      ${input('description', t('consoleb.resources.description'))}
      ${(v.kind === 'room' || v.kind === 'zone') && input('capacity', t('consoleb.resources.capacity'), { type: 'number', min: 1, max: 1000 })}
      <fieldset class="consoleb-rules">
        <legend>${t('consoleb.resources.rules')}</legend>
        ${rules.map(([k]) => input(k, t(`consoleb.rule.${k}`), { type: 'number', min: 0 }))}
      </fieldset>
      ${input('price', t('consoleb.resources.price'), { inputmode: 'decimal' })}
      <div class="field"><label for="${p}-vat">${t('consoleb.resources.vat')}</label>
        <select id="${p}-vat" value=${v.vat} onChange=${set('vat')}>
          <option value="">${t('consoleb.vat.default')}</option>
          ${[2000, 1000, 550, 0].map((b) => html`<option key=${b} value=${String(b)}>${t('consoleb.vat.rate', { rate: String(b / 100).replace('.', ',') })}</option>`)}
        </select></div>
      ${v.kind === 'machine' && html`<div class="field"><label for="${p}-qualification_id">${t('consoleb.resources.qualification')}</label>
        <select id="${p}-qualification_id" value=${v.qualification_id} onChange=${set('qualification_id')}>
          <option value="">${t('consoleb.resources.noqualification')}</option>
          ${qualifications.map((q) => html`<option key=${q.id} value=${q.id}>${q.name}</option>`)}</select></div>`}
      <div class="field field--check"><input id="${p}-member_bookable" type="checkbox" checked=${v.member_bookable} onChange=${set('member_bookable')} />
        <label for="${p}-member_bookable">${t('consoleb.resources.member_bookable')}</label></div>
      <div class="consoleb-actions">
        <button class="button" type="submit">${state.busy ? t('consoleb.busy') : (resource ? t('consoleb.resources.save') : t('consoleb.resources.create'))}</button>
        ${onCancel && html`<button class="button button--secondary" type="button" onClick=${onCancel}>${t('consoleb.cancel')}</button>`}
      </div>
    </form>`;
}

function Closures({ resource, zone }) {
  const { t, lang, api, announce } = useApp();
  const s = useLoad(() => api.get(`/v1/resources/${resource.id}/closures`), [resource.id]);
  const [v, setV] = useState({ from: localDay(new Date(), zone), to: localDay(new Date(), zone), reason: '' });
  const [error, setError] = useState(null);
  const p = `closure-${resource.id}`;
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const end = new Date(Date.parse(`${v.to}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
      await api.post(`/v1/resources/${resource.id}/closures`, { starts_at: midnight(v.from, zone), ends_at: midnight(end, zone), reason: v.reason.trim() },
        { idempotent: true });
      announce(t('consoleb.closures.done'));
      s.reload();
    } catch (err) {
      setError(err);
    }
  };
  const reopen = async (c) => {
    try {
      await api.del(`/v1/resources/${resource.id}/closures/${c.id}`);
      announce(t('consoleb.closures.reopened'));
      s.reload();
    } catch (err) {
      setError(err);
    }
  };
  const items = s.data ? (s.data.items || []) : [];
  return html`
    <div class="consoleb-closures">
      <h4>${t('consoleb.closures.title')}</h4>
      ${items.length === 0 ? html`<p class="empty">${t('consoleb.closures.none')}</p>` : html`<ul>
        ${items.map((c) => html`<li key=${c.id}>${formatDate(c.starts_at, lang, zone)} ${formatTime(c.starts_at, lang, zone)} – ${formatDate(c.ends_at, lang, zone)} ${formatTime(c.ends_at, lang, zone)}
          ${c.reason ? ` · ${c.reason}` : ''} <button class="button button--secondary" type="button" onClick=${() => reopen(c)}
          aria-label=${t('consoleb.closures.reopen_label', { date: formatDate(c.starts_at, lang, zone) })}>${t('consoleb.closures.reopen')}</button></li>`)}</ul>`}
      <form class="form consoleb-filters" onSubmit=${submit} novalidate aria-label=${t('consoleb.closures.form', { name: resource.name })}>
        ${error && html`<${Problem} error=${error} />`}
        <div class="field"><label for="${p}-from">${t('consoleb.closures.from')}</label>
          <input id="${p}-from" type="date" value=${v.from} onChange=${(e) => setV({ ...v, from: e.target.value })} /></div>
        <div class="field"><label for="${p}-to">${t('consoleb.closures.to')}</label>
          <input id="${p}-to" type="date" value=${v.to} onChange=${(e) => setV({ ...v, to: e.target.value })} /></div>
        <div class="field"><label for="${p}-reason">${t('consoleb.closures.reason')}</label>
          <input id="${p}-reason" value=${v.reason} onInput=${(e) => setV({ ...v, reason: e.target.value })} /></div>
        <button class="button button--secondary" type="submit">${t('consoleb.closures.submit')}</button>
      </form>
    </div>`;
}

function ResourceRow({ site, resource, qualifications, onChange }) {
  const { t, lang } = useApp();
  const [open, setOpen] = useState('');
  const r = resource;
  return html`
    <li class="consoleb-row" key=${r.id}>
      <h3>${r.name}</h3>
      <p>${t(`consoleb.rkind.${r.kind}`)}${r.kind === 'room' || r.kind === 'zone' ? ` · ${t('consoleb.resources.places', { n: r.capacity })}` : ''}
        ${r.price_per_hour_cents ? ` · ${t('consoleb.resources.per_hour', { price: formatPrice(r.price_per_hour_cents, lang) })}` : ''}
        ${r.member_bookable === false ? ` · ${t('consoleb.resources.managers_only')}` : ''}</p>
      <p>${t('consoleb.resources.rules_text', { slot: r.rules.slot_minutes, min: r.rules.min_minutes, max: r.rules.max_minutes, horizon: r.rules.horizon_days })}</p>
      <div class="consoleb-actions">
        <button class="button button--secondary" type="button" aria-expanded=${open === 'edit' ? 'true' : 'false'}
          aria-label=${t('consoleb.resources.edit_label', { name: r.name })} onClick=${() => setOpen(open === 'edit' ? '' : 'edit')}>${t('consoleb.resources.edit')}</button>
        <button class="button button--secondary" type="button" aria-expanded=${open === 'closures' ? 'true' : 'false'}
          aria-label=${t('consoleb.closures.open_label', { name: r.name })} onClick=${() => setOpen(open === 'closures' ? '' : 'closures')}>${t('consoleb.closures.title')}</button>
      </div>
      ${open === 'edit' && html`<${ResourceForm} site=${site} resource=${r} qualifications=${qualifications}
        onDone=${() => { setOpen(''); onChange(); }} onCancel=${() => setOpen('')} />`}
      ${open === 'closures' && html`<${Closures} resource=${r} zone=${site.timezone} />`}
    </li>`;
}

function Resources({ site }) {
  const { t, api } = useApp();
  const s = useLoad(() => Promise.all([
    api.get(`/v1/sites/${site.id}/resources`),
    api.get(`/v1/sites/${site.id}/qualifications`).catch(() => ({ items: [] })),
  ]), [site.id]);
  const [siteNow, setSiteNow] = useState(site);
  const [formKey, setFormKey] = useState(0);
  if (!s.data) {
    return s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`;
  }
  const [resources, quals] = s.data;
  const qualifications = quals.items || [];
  return html`
    <${OpeningHours} site=${siteNow} onSaved=${setSiteNow} />
    <section class="card consoleb-section" aria-labelledby="resources-title">
      <h2 id="resources-title">${t('consoleb.resources.list')}</h2>
      ${resources.items.length === 0 ? html`<p class="empty">${t('consoleb.resources.none')}</p>` : html`
        <ul class="consoleb-rows">
          ${resources.items.map((r) => html`<${ResourceRow} key=${r.id} site=${site} resource=${r} qualifications=${qualifications} onChange=${s.reload} />`)}
        </ul>`}
    </section>
    <section class="card consoleb-section" aria-labelledby="new-resource-title">
      <h2 id="new-resource-title">${t('consoleb.resources.new')}</h2>
      <${ResourceForm} key=${formKey} site=${site} qualifications=${qualifications} onDone=${() => { setFormKey(formKey + 1); s.reload(); }} />
    </section>`;
}

export default function ConsoleResources() {
  const { t } = useApp();
  const state = useSite();
  return html`
    <${Page} title=${t('consoleb.resources.title')} wide>
      <${ConsoleNavB} current="/console/resources" />
      <${SitePicker} state=${state} />
      <${SiteGate} state=${state}>${(site) => html`<${Resources} key=${site.id} site=${site} />`}<//>
    <//>`;
}
