// The appointments desk (/console/appointments): a partner's day at the
// site (who, when, why, the outcome), booking a free slot for a member or
// a guest (found by name or registered in place), the printable slip of
// each appointment for those without email, the outcome recorded once it
// has started, and cancelling before.
import { html, useState, useEffect } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { errorText } from '../../lib/forms.js';
import { navigate } from '../../lib/router.js';
import { useConsoleSite, ConsoleFrame } from '../../lib/console.js';
import { formatDate, formatTime, formatTimeRange, dayKey } from '../../lib/format.js';
import { addDays } from '../../lib/services.js';
import { PersonPicker } from '../../lib/console-services.js';

export const outcomes = ['held', 'no_show', 'follow_up'];

// Outcome: the result of an appointment once started, with a short note
// (read by the partner's agents only).
export function Outcome({ a, onDone, withNote = false }) {
  const { t, api, announce } = useApp();
  const [value, setValue] = useState(a.outcome || 'held');
  const [note, setNote] = useState(a.outcome_note || '');
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const body = { outcome: value };
      if (withNote) {
        body.note = note.trim() ? note.trim() : null;
      }
      await api.patch(`/v1/appointments/${encodeURIComponent(a.id)}`, body);
      announce(t('servicesapp.outcome.saved'));
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`
    <form class="form console-inline services-outcome" onSubmit=${save} novalidate>
      ${error && html`<p class="alert alert--error" role="alert">${errorText(error, t)}</p>`}
      <div class="field">
        <label for="outcome-${a.id}">${t('servicesapp.outcome.label')}</label>
        <select id="outcome-${a.id}" value=${value} onChange=${(e) => setValue(e.target.value)}>
          ${outcomes.map((o) => html`<option key=${o} value=${o}>${t(`servicesapp.outcome.${o}`)}</option>`)}
        </select>
      </div>
      ${withNote && html`
        <div class="field">
          <label for="note-${a.id}">${t('servicesapp.outcome.note')}</label>
          <textarea id="note-${a.id}" rows="2" maxlength="1000" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
        </div>`}
      <button class="button" type="submit">${t('servicesapp.outcome.save')}</button>
    </form>`;
}

function Day({ site, partner, date, version, reload }) {
  const { t, lang, api, announce } = useApp();
  const [state, setState] = useState({ loading: true });
  const [error, setError] = useState(null);
  useEffect(() => {
    api.get(`/v1/partners/${encodeURIComponent(partner.id)}/appointments?date=${date}`).then(
      (l) => setState({ items: l.items.filter((a) => a.site_id === site.id) }), (e) => setState({ error: e }),
    );
  }, [partner.id, date, version]);
  const cancel = async (a) => {
    setError(null);
    try {
      await api.post(`/v1/appointments/${encodeURIComponent(a.id)}/cancel`, {});
      announce(t('servicesapp.appt.cancelled.said'));
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const now = new Date();
  return html`
    <section aria-labelledby="appt-day">
      <h2 id="appt-day">${t('servicesapp.desk.day', { partner: partner.name, date: formatDate(`${date}T12:00:00Z`, lang, 'UTC') })}</h2>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${state.error && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
      ${error && html`<p class="alert alert--error" role="alert">${errorText(error, t)}</p>`}
      ${state.items && state.items.length === 0 && html`<p class="empty">${t('servicesapp.desk.none')}</p>`}
      ${state.items && state.items.length > 0 && html`
        <ul class="console-list services-list">
          ${state.items.map((a) => html`
            <li key=${a.id} class="card">
              <h3>${formatTimeRange(a.start, a.end, lang, site.timezone)} · ${a.name || ''}</h3>
              <p>${a.purpose}${a.status === 'cancelled' ? ` · ${t('servicesapp.appt.cancelled')}` : ''}${a.outcome ? ` · ${t(`servicesapp.outcome.${a.outcome}`)}` : ''}</p>
              <p class="console-actions">
                <a href="/console/appointments/${encodeURIComponent(a.id)}/slip">${t('servicesapp.slip.open')}</a>
                ${a.status === 'confirmed' && new Date(a.start) > now && html`
                  <button class="button button--secondary" type="button" onClick=${() => cancel(a)}
                    aria-label=${t('servicesapp.appt.cancel.label', { when: formatTime(a.start, lang, site.timezone) })}>${t('servicesapp.appt.cancel')}</button>`}
              </p>
              ${a.status === 'confirmed' && new Date(a.start) <= now && html`<${Outcome} a=${a} onDone=${reload} />`}
            </li>`)}
        </ul>`}
    </section>`;
}

function Book({ site, partner }) {
  const { t, lang, api } = useApp();
  const [purposeId, setPurposeId] = useState(partner.purposes[0] ? partner.purposes[0].id : '');
  const [slots, setSlots] = useState(null);
  const [slotKey, setSlotKey] = useState('');
  const [state, setState] = useState({ busy: false, error: null });
  useEffect(() => {
    const from = dayKey(new Date(), site.timezone);
    api.get(`/v1/partners/${encodeURIComponent(partner.id)}/slots?site_id=${encodeURIComponent(site.id)}&from=${from}&to=${addDays(from, 21)}`).then(
      (l) => {
        setSlots({ items: l.items });
        setSlotKey(l.items[0] ? `${l.items[0].window_id}|${l.items[0].start}` : '');
      }, (e) => setSlots({ error: e }),
    );
  }, [partner.id, site.id]);
  const pick = async (person) => {
    const slot = slots.items.find((s) => `${s.window_id}|${s.start}` === slotKey);
    if (!slot) {
      setState({ busy: false, error: null, invalid: t('servicesapp.desk.noslot.chosen') });
      return;
    }
    setState({ busy: true, error: null });
    try {
      const a = await api.post('/v1/appointments', { window_id: slot.window_id, start: slot.start, purpose_id: purposeId, user_id: person.id }, { idempotent: true });
      navigate(`/console/appointments/${encodeURIComponent(a.id)}/slip`);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const purpose = partner.purposes.find((p) => p.id === purposeId);
  return html`
    <section aria-labelledby="appt-book">
      <h2 id="appt-book">${t('servicesapp.desk.book')}</h2>
      <div class="field">
        <label for="desk-purpose">${t('servicesapp.book.purpose')}</label>
        <select id="desk-purpose" value=${purposeId} onChange=${(e) => setPurposeId(e.target.value)}>
          ${partner.purposes.map((p) => html`<option key=${p.id} value=${p.id}>${p.name}</option>`)}
        </select>
        ${purpose && purpose.documents && purpose.documents.length > 0 && html`<p class="hint">${t('servicesapp.book.bring', { list: purpose.documents.join(', ') })}</p>`}
      </div>
      ${slots && slots.error && html`<p class="alert alert--error" role="alert">${errorText(slots.error, t)}</p>`}
      ${slots && slots.items && slots.items.length === 0 && html`<p class="empty">${t('servicesapp.book.noslot', { n: 21 })}</p>`}
      ${slots && slots.items && slots.items.length > 0 && html`
        <div class="field">
          <label for="desk-slot">${t('servicesapp.book.slot')}</label>
          <select id="desk-slot" value=${slotKey} onChange=${(e) => setSlotKey(e.target.value)}>
            ${slots.items.map((s) => html`<option key=${`${s.window_id}|${s.start}`} value=${`${s.window_id}|${s.start}`}>${formatDate(s.start, lang, site.timezone)}, ${formatTime(s.start, lang, site.timezone)}</option>`)}
          </select>
        </div>
        ${state.invalid && html`<p class="field-error" role="alert">${state.invalid}</p>`}
        ${state.error && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
        <${PersonPicker} site=${site} label=${t('servicesapp.desk.book.do')} onPick=${pick} busy=${state.busy} />`}
    </section>`;
}

function Desk({ site }) {
  const { t, api } = useApp();
  const [partners, setPartners] = useState(null);
  const [partnerId, setPartnerId] = useState('');
  const [date, setDate] = useState(dayKey(new Date(), site.timezone));
  const [version, setVersion] = useState(0);
  useEffect(() => {
    api.get(`/v1/partners?site_id=${encodeURIComponent(site.id)}`).then((l) => {
      const active = l.items.filter((p) => p.active);
      setPartners(active);
      setPartnerId(active[0] ? active[0].id : '');
    }, () => setPartners([]));
  }, [site.id]);
  const partner = partners && partners.find((p) => p.id === partnerId);
  return html`
    ${partners === null && html`<p role="status">${t('loading')}</p>`}
    ${partners && partners.length === 0 && html`<p class="empty">${t('servicesapp.desk.nopartner')}</p>`}
    ${partners && partners.length > 0 && html`
      <div class="console-inline">
        <div class="field">
          <label for="desk-partner">${t('servicesapp.book.partner')}</label>
          <select id="desk-partner" value=${partnerId} onChange=${(e) => setPartnerId(e.target.value)}>
            ${partners.map((p) => html`<option key=${p.id} value=${p.id}>${p.name}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="desk-date">${t('servicesapp.desk.date')}</label>
          <input id="desk-date" type="date" value=${date} onInput=${(e) => /^\d{4}-\d{2}-\d{2}$/.test(e.target.value) && setDate(e.target.value)} />
        </div>
      </div>`}
    ${partner && html`
      <${Day} key=${partner.id} site=${site} partner=${partner} date=${date} version=${version} reload=${() => setVersion((v) => v + 1)} />
      <${Book} key=${`b${partner.id}`} site=${site} partner=${partner} />`}`;
}

export default function ConsoleAppointments() {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('servicesapp.desk.title')} current="/console/appointments" cs=${cs}>
      ${cs.site && html`<div key=${cs.site.id}><${Desk} site=${cs.site} /></div>`}
    <//>`;
}
