// Partners (/console/partners): the public services and associations that
// receive at the site (the CAF, France Travail, the CPAM…), each with its
// motifs and the documents to bring, its agents, and its windows here —
// the permanences, weekly or every day, cut in slots — published, listed
// and closed. A site's partner is run by the site's managers, a
// network-wide one by the admins; a window is the host site's to open.
// The API decides each of these again.
import { html, useState, useEffect } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Field, FormError, useSubmit, errorText } from '../../lib/forms.js';
import { useConsoleSite, ConsoleFrame } from '../../lib/console.js';
import { dayKey, dateFormat } from '../../lib/format.js';
import { bookableHere } from '../../lib/console-services.js';
import { wallClock as hm } from '../../lib/services.js';
import { useFocusWhen } from '../../lib/wallet.js';

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const videoModes = ['none', 'agent_room', 'generated'];

// dayText: "8 décembre 2026" for a date of the site's calendar.
function dayText(day, lang) {
  return dateFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })
    .format(new Date(`${day}T12:00Z`));
}

// dayName: "mardi" in the middle of a French sentence, "Tuesday" in English.
function dayName(d, t, lang) {
  const name = t(`consoleb.day.${d}`);
  return lang === 'en' ? name : name.toLowerCase();
}

// windowText says a window in one sentence: when it recurs, its hours and
// slots, and the dates it runs.
export function windowText(w, t, lang) {
  const every = w.weekday ? t('partners.window.weekly', { day: dayName(w.weekday, t, lang) }) : t('partners.window.daily');
  const hours = t('partners.window.hours', { start: hm(w.start, lang), end: hm(w.end, lang), minutes: w.slot_minutes });
  const span = w.until ? t('partners.window.span', { from: dayText(w.from, lang), until: dayText(w.until, lang) })
    : t('partners.window.from', { from: dayText(w.from, lang) });
  return `${every}, ${hours}, ${span}`;
}

// documentLines: the documents to bring, one per line of a textarea.
function documentLines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

function Purposes({ prefix = '', rows, setRows, fields }) {
  const { t } = useApp();
  const set = (i, k) => (v) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  return html`
    <fieldset class="console-fieldset">
      <legend>${t('partners.purposes')}</legend>
      <p class="hint">${t('partners.purposes.hint')}</p>
      ${rows.map((r, i) => html`
        <div class="partners-purpose" key=${i}>
          <${Field} name="${prefix}purpose-${i}-name" label=${t('partners.purpose.name', { n: i + 1 })} value=${r.name} onInput=${set(i, 'name')} required
            error=${fields[`purposes[${i}].name`] || fields.purposes} />
          <div class="field ${fields[`purposes[${i}].documents`] ? 'field--invalid' : ''}">
            <label for="${prefix}purpose-${i}-documents">${t('partners.purpose.documents', { n: i + 1 })}</label>
            <p class="hint" id="${prefix}purpose-${i}-documents-hint">${t('partners.purpose.documents.hint')}</p>
            <textarea id="${prefix}purpose-${i}-documents" rows="3" aria-describedby="${prefix}purpose-${i}-documents-hint" value=${r.documents}
              onInput=${(e) => set(i, 'documents')(e.target.value)}></textarea>
            ${fields[`purposes[${i}].documents`] && html`<p class="field-error">${fields[`purposes[${i}].documents`]}</p>`}
          </div>
          ${rows.length > 1 && html`<button class="button button--secondary" type="button" onClick=${() => setRows(rows.filter((_, j) => j !== i))}>
            ${t('partners.purpose.remove', { n: i + 1 })}</button>`}
        </div>`)}
      <button class="button button--secondary" type="button" onClick=${() => setRows([...rows, { name: '', documents: '' }])}>${t('partners.purpose.add')}</button>
    </fieldset>`;
}

// purposeBody: the rows of the Purposes fieldset as the API takes them,
// an existing motif keeping its id (its appointments keep their copy).
function purposeBody(rows) {
  return rows.map((r) => ({ ...(r.id ? { id: r.id } : {}), name: r.name.trim(), documents: documentLines(r.documents) }));
}

// EditPartner changes a partner's name, kind, video and motifs.
function EditPartner({ p, onDone, onClose }) {
  const { t, api, announce } = useApp();
  const [v, setV] = useState({ name: p.name, kind: p.kind, video_mode: p.video_mode, video_base_url: p.video_base_url || '' });
  const [rows, setRows] = useState(p.purposes.map((u) => ({ id: u.id, name: u.name, documents: u.documents.join('\n') })));
  const set = (k) => (x) => setV({ ...v, [k]: x });
  const s = useSubmit(async () => {
    const body = { name: v.name.trim(), kind: v.kind.trim(), video_mode: v.video_mode, purposes: purposeBody(rows) };
    if (v.video_mode === 'generated') {
      body.video_base_url = v.video_base_url.trim();
    }
    const saved = await api.patch(`/v1/partners/${encodeURIComponent(p.id)}`, body);
    announce(t('partners.saved', { name: saved.name }));
    onDone();
  });
  const f = s.fields;
  const ref = useFocusWhen(true);
  return html`
    <form ref=${ref} tabindex="-1" class="form" onSubmit=${s.onSubmit} novalidate aria-label=${t('partners.edit.form', { name: p.name })}>
      <${FormError} error=${s.error} />
      <${Field} name="edit-name-${p.id}" label=${t('partners.name')} value=${v.name} onInput=${set('name')} required error=${f.name} />
      <${Field} name="edit-kind-${p.id}" label=${t('partners.kind')} hint=${t('partners.kind.hint')} value=${v.kind} onInput=${set('kind')} error=${f.kind} />
      <${Field} name="edit-video-${p.id}" label=${t('partners.video')} value=${v.video_mode} onInput=${set('video_mode')} error=${f.video_mode}>
        ${videoModes.map((m) => html`<option key=${m} value=${m}>${t(`partners.video.${m}`)}</option>`)}
      <//>
      ${v.video_mode === 'generated' && html`
        <${Field} name="edit-video-base-${p.id}" type="url" label=${t('partners.video.base')} hint=${t('partners.video.base.hint')} value=${v.video_base_url}
          onInput=${set('video_base_url')} required error=${f.video_base_url} />`}
      <${Purposes} prefix="edit-${p.id}-" rows=${rows} setRows=${setRows} fields=${f} />
      <p class="console-actions">
        <button class="button" type="submit" disabled=${s.busy}>${t('partners.save')}</button>
        <button class="button button--secondary" type="button" onClick=${onClose}>${t('partners.edit.cancel')}</button>
      </p>
    </form>`;
}

function NewPartner({ site, onDone }) {
  const { t, api, me, announce } = useApp();
  const [v, setV] = useState({ name: '', kind: '', video_mode: 'none', video_base_url: '', network: false });
  const [rows, setRows] = useState([{ name: '', documents: '' }]);
  const set = (k) => (x) => setV({ ...v, [k]: x });
  const s = useSubmit(async () => {
    const body = {
      name: v.name.trim(), kind: v.kind.trim(), video_mode: v.video_mode,
      purposes: purposeBody(rows),
    };
    if (!v.network) {
      body.site_id = site.id;
    }
    if (v.video_mode === 'generated') {
      body.video_base_url = v.video_base_url.trim();
    }
    const p = await api.post('/v1/partners', body, { idempotent: true });
    announce(t('partners.created', { name: p.name }));
    setV({ name: '', kind: '', video_mode: 'none', video_base_url: '', network: false });
    setRows([{ name: '', documents: '' }]);
    onDone();
  });
  const f = s.fields;
  return html`
    <section aria-labelledby="partners-new">
      <h2 id="partners-new">${t('partners.new')}</h2>
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="partner-name" label=${t('partners.name')} hint=${t('partners.name.hint')} value=${v.name} onInput=${set('name')} required error=${f.name} />
        <${Field} name="partner-kind" label=${t('partners.kind')} hint=${t('partners.kind.hint')} value=${v.kind} onInput=${set('kind')} error=${f.kind} />
        <${Field} name="partner-video" label=${t('partners.video')} value=${v.video_mode} onInput=${set('video_mode')} error=${f.video_mode}>
          ${videoModes.map((m) => html`<option key=${m} value=${m}>${t(`partners.video.${m}`)}</option>`)}
        <//>
        ${v.video_mode === 'generated' && html`
          <${Field} name="partner-video-base" type="url" label=${t('partners.video.base')} hint=${t('partners.video.base.hint')} value=${v.video_base_url}
            onInput=${set('video_base_url')} required error=${f.video_base_url} />`}
        ${me.role === 'admin' && html`
          <div class="choice">
            <input type="checkbox" id="partner-network" checked=${v.network} onChange=${(e) => set('network')(e.target.checked)} />
            <label for="partner-network">${t('partners.network')}</label>
          </div>`}
        <${Purposes} rows=${rows} setRows=${setRows} fields=${f} />
        <button class="button" type="submit" disabled=${s.busy}>${t('partners.create')}</button>
      </form>
    </section>`;
}

function AddAgent({ p, onDone }) {
  const { t, api, announce } = useApp();
  const [v, setV] = useState({ email: '', video_url: '' });
  const s = useSubmit(async () => {
    const body = { email: v.email.trim() };
    if (v.video_url.trim()) {
      body.video_url = v.video_url.trim();
    }
    const a = await api.post(`/v1/partners/${encodeURIComponent(p.id)}/agents`, body, { idempotent: true });
    announce(t('partners.agent.added', { name: a.name, partner: p.name }));
    setV({ email: '', video_url: '' });
    onDone();
  });
  const f = s.fields;
  return html`
    <form class="form" onSubmit=${s.onSubmit} novalidate aria-label=${t('partners.agent.form', { partner: p.name })}>
      <${FormError} error=${s.error} />
      <${Field} name="agent-email-${p.id}" type="email" label=${t('partners.agent.email')} hint=${t('partners.agent.email.hint')} value=${v.email}
        onInput=${(x) => setV({ ...v, email: x })} required error=${f.email || f.user_id} />
      ${p.video_mode === 'agent_room' && html`
        <${Field} name="agent-video-${p.id}" type="url" label=${t('partners.agent.video')} value=${v.video_url}
          onInput=${(x) => setV({ ...v, video_url: x })} error=${f.video_url} />`}
      <button class="button button--secondary" type="submit" disabled=${s.busy}>${t('partners.agent.add')}</button>
    </form>`;
}

function NewWindow({ p, site, resources, agents, onDone }) {
  const { t, lang, api, announce } = useApp();
  const today = dayKey(new Date(), site.timezone);
  const blank = { resource_id: resources[0] ? resources[0].id : '', agent_id: '', weekday: 'tue', from: today, until: '', start: '09:00', end: '12:00', slot: '30' };
  const [v, setV] = useState(blank);
  const set = (k) => (x) => setV({ ...v, [k]: x });
  const s = useSubmit(async () => {
    const body = { site_id: site.id, resource_id: v.resource_id, from: v.from, start: v.start, end: v.end, slot_minutes: Number(v.slot) };
    if (v.weekday) {
      body.weekday = v.weekday;
    }
    if (v.until) {
      body.until = v.until;
    }
    if (v.agent_id) {
      body.agent_id = v.agent_id;
    }
    const w = await api.post(`/v1/partners/${encodeURIComponent(p.id)}/windows`, body, { idempotent: true });
    announce(t('partners.window.published', { partner: p.name, when: windowText(w, t, lang) }));
    setV(blank);
    onDone();
  });
  const f = s.fields;
  const id = (k) => `window-${k}-${p.id}`;
  return html`
    <form class="form" onSubmit=${s.onSubmit} novalidate aria-label=${t('partners.window.form', { partner: p.name })}>
      <${FormError} error=${s.error} />
      <${Field} name=${id('resource')} label=${t('partners.window.resource')} value=${v.resource_id} onInput=${set('resource_id')} required error=${f.resource_id}>
        ${resources.map((r) => html`<option key=${r.id} value=${r.id}>${r.from ? t('servicesapp.console.kit_from', { name: r.name, site: r.from }) : r.name}</option>`)}
      <//>
      <${Field} name=${id('agent')} label=${t('partners.window.agent')} value=${v.agent_id} onInput=${set('agent_id')} error=${f.agent_id}>
        <option value="">${t('partners.window.agent.any')}</option>
        ${agents.map((a) => html`<option key=${a.user_id} value=${a.user_id}>${a.name}</option>`)}
      <//>
      <${Field} name=${id('weekday')} label=${t('partners.window.weekday')} value=${v.weekday} onInput=${set('weekday')} error=${f.weekday}>
        ${weekdays.map((d) => html`<option key=${d} value=${d}>${t('partners.window.every', { day: dayName(d, t, lang) })}</option>`)}
        <option value="">${t('partners.window.daily')}</option>
      <//>
      <${Field} name=${id('from')} type="date" label=${t('partners.window.first')} value=${v.from} onInput=${set('from')} required error=${f.from} />
      <${Field} name=${id('until')} type="date" label=${t('partners.window.until')} hint=${t(v.weekday ? 'partners.window.until.hint' : 'partners.window.until.daily')}
        value=${v.until} onInput=${set('until')} required=${!v.weekday} error=${f.until} />
      <${Field} name=${id('start')} type="time" label=${t('partners.window.start')} value=${v.start} onInput=${set('start')} required error=${f.start} />
      <${Field} name=${id('end')} type="time" label=${t('partners.window.end')} value=${v.end} onInput=${set('end')} required error=${f.end} />
      <${Field} name=${id('slot')} type="number" inputmode="numeric" label=${t('partners.window.slot')} value=${v.slot} onInput=${set('slot')} required error=${f.slot_minutes} />
      <button class="button" type="submit" disabled=${s.busy || resources.length === 0}>${t('partners.window.publish')}</button>
      ${resources.length === 0 && html`<p class="hint">${t('partners.window.noresource')}</p>`}
    </form>`;
}

function Partner({ p, site, resources, onChange }) {
  const { t, lang, api, me, announce } = useApp();
  const [st, setSt] = useState({ loading: true, agents: [], windows: [], error: null });
  // The agents of a network-wide partner are the admins' to see: for a
  // site's manager that list is refused (403), and the card says so.
  const load = () => Promise.all([
    api.get(`/v1/partners/${encodeURIComponent(p.id)}/agents`).then((a) => a.items, (error) => {
      if (error.status === 403) {
        return null;
      }
      throw error;
    }),
    api.get(`/v1/partners/${encodeURIComponent(p.id)}/windows`),
  ]).then(([agents, w]) => setSt({ loading: false, agents, windows: w.items.filter((x) => x.site_id === site.id), error: null }),
    (error) => setSt((x) => ({ ...x, loading: false, error })));
  useEffect(() => {
    load();
  }, [p.id, site.id]);
  const act = async (call, said) => {
    try {
      await call();
      announce(said);
      load();
    } catch (error) {
      setSt((x) => ({ ...x, error }));
    }
  };
  const removeAgent = (a) => act(() => api.del(`/v1/partners/${encodeURIComponent(p.id)}/agents/${encodeURIComponent(a.user_id)}`),
    t('partners.agent.removed', { name: a.name, partner: p.name }));
  const setActive = (active) => act(() => api.patch(`/v1/partners/${encodeURIComponent(p.id)}`, { active }).then(onChange),
    t(active ? 'partners.resumed' : 'partners.paused', { name: p.name }));
  const close = async (w) => {
    try {
      await api.post(`/v1/partners/${encodeURIComponent(p.id)}/windows/${encodeURIComponent(w.id)}/close`, {});
      announce(t('partners.window.closed', { when: windowText(w, t, lang) }));
      load();
    } catch (error) {
      setSt((x) => ({ ...x, error }));
    }
  };
  const resourceName = (rid) => {
    const r = resources.find((x) => x.id === rid);
    return r ? r.name : '';
  };
  const agentName = (uid) => {
    const a = (st.agents || []).find((x) => x.user_id === uid);
    return a ? a.name : '';
  };
  const runsIt = me.role === 'admin' || (p.site_id !== null && p.site_id === site.id);
  const [editing, setEditing] = useState(false);
  const open = st.windows.filter((w) => w.status === 'open');
  return html`
    <article class="card partners-partner" aria-labelledby="partner-${p.id}">
      <h3 id="partner-${p.id}">${p.name}</h3>
      <p class="services-meta">${[p.kind, p.site_id === null ? t('partners.network.short') : '', p.active ? '' : t('partners.inactive')].filter(Boolean).join(' · ')}</p>
      ${runsIt && !editing && html`<p class="console-actions">
        <button class="button button--secondary" type="button" onClick=${() => setEditing(true)}
          aria-label=${t('partners.edit.label', { name: p.name })}>${t('partners.edit')}</button>
        <button class="button button--secondary" type="button" onClick=${() => setActive(!p.active)}
          aria-label=${t(p.active ? 'partners.pause.label' : 'partners.resume.label', { name: p.name })}>${t(p.active ? 'partners.pause' : 'partners.resume')}</button></p>`}
      ${editing && html`<${EditPartner} p=${p} onDone=${() => { setEditing(false); onChange(); }} onClose=${() => setEditing(false)} />`}
      ${st.error && html`<p class="alert alert--error" role="alert">${errorText(st.error, t)}</p>`}
      <h4>${t('partners.purposes')}</h4>
      <ul>${p.purposes.map((u) => html`<li key=${u.id}>${u.documents.length ? t('partners.purpose.line', { name: u.name, documents: u.documents.join(', ') }) : u.name}</li>`)}</ul>
      <h4>${t('partners.agents')}</h4>
      ${st.agents === null ? html`<p class="hint">${t('partners.agents.network')}</p>`
        : st.agents.length === 0 ? html`<p class="empty">${t('partners.agents.none')}</p>`
          : html`<ul class="console-list">${st.agents.map((a) => html`<li key=${a.user_id}>
              <p>${a.name}</p>
              ${runsIt && html`<button class="button button--secondary" type="button" onClick=${() => removeAgent(a)}
                aria-label=${t('partners.agent.remove.label', { name: a.name })}>${t('partners.agent.remove')}</button>`}
            </li>`)}</ul>`}
      ${runsIt && html`<${AddAgent} p=${p} onDone=${load} />`}
      <h4>${t('partners.windows', { site: site.name })}</h4>
      ${st.loading ? html`<p role="status">${t('loading')}</p>` : open.length === 0 ? html`<p class="empty">${t('partners.windows.none')}</p>` : html`
        <ul class="console-list">${open.map((w) => html`
          <li key=${w.id}>
            <p>${windowText(w, t, lang)} · ${resourceName(w.resource_id)}${w.agent_id ? ` · ${agentName(w.agent_id)}` : ''}</p>
            <button class="button button--secondary" type="button" onClick=${() => close(w)}
              aria-label=${t('partners.window.close.label', { when: windowText(w, t, lang) })}>${t('partners.window.close')}</button>
          </li>`)}</ul>`}
      <details>
        <summary>${t('partners.window.new', { partner: p.name })}</summary>
        <${NewWindow} p=${p} site=${site} resources=${resources} agents=${st.agents || []} onDone=${load} />
      </details>
    </article>`;
}

function Partners({ site }) {
  const { t, api, me } = useApp();
  const [st, setSt] = useState({ loading: true, partners: [], resources: [], error: null });
  const load = () => Promise.all([api.get(`/v1/partners?site_id=${encodeURIComponent(site.id)}`), bookableHere(api, me, site)])
    .then(([p, resources]) => setSt({ loading: false, partners: p.items, resources, error: null }), (error) => setSt({ loading: false, partners: [], resources: [], error }));
  useEffect(() => {
    load();
  }, [site.id]);
  return html`
    <section aria-labelledby="partners-list">
      <h2 id="partners-list">${t('partners.list', { site: site.name })}</h2>
      ${st.loading && html`<p role="status">${t('loading')}</p>`}
      ${st.error && html`<p class="alert alert--error" role="alert">${errorText(st.error, t)}</p>`}
      ${!st.loading && !st.error && st.partners.length === 0 && html`<p class="empty">${t('partners.none')}</p>`}
      ${st.partners.map((p) => html`<${Partner} key=${p.id} p=${p} site=${site} resources=${st.resources} onChange=${load} />`)}
    </section>
    <${NewPartner} site=${site} onDone=${load} />`;
}

export default function ConsolePartners() {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('partners.title')} current="/console/partners" cs=${cs}>
      ${cs.site && html`<div key=${cs.site.id}><${Partners} site=${cs.site} /></div>`}
    <//>`;
}
