// Booking an appointment with a public service (/appointments/new): the
// partner, then the purpose (with the documents it asks to bring), the
// site, a free slot of the next two weeks in the site's zone, and the
// confirmation. Each step is a group of radio buttons; the summary says
// everything before confirming.
import { html, useState, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { errorText } from '../lib/forms.js';
import { navigate } from '../lib/router.js';
import { formatDate, formatTime, dayKey } from '../lib/format.js';
import { sitesById, isoDay, addressText, sessionWhen } from '../lib/services.js';

const days = 14;

function Choice({ name, legend, items, value, onChange, label, hint }) {
  return html`
    <fieldset class="choices services-step">
      <legend>${legend}</legend>
      ${items.map((it) => html`
        <div class="choice" key=${it.id}>
          <input type="radio" id="${name}-${it.id}" name=${name} value=${it.id} checked=${value === it.id} onChange=${() => onChange(it.id)} />
          <label for="${name}-${it.id}">${label(it)}${hint && hint(it) ? html` <span class="hint">${hint(it)}</span>` : ''}</label>
        </div>`)}
    </fieldset>`;
}

export default function BookAppointment() {
  const { t, lang, api, announce } = useApp();
  const [base, setBase] = useState({ loading: true });
  const [partnerId, setPartnerId] = useState('');
  const [purposeId, setPurposeId] = useState('');
  const [siteId, setSiteId] = useState('');
  const [slots, setSlots] = useState(null);
  const [slotKey, setSlotKey] = useState('');
  const [submit, setSubmit] = useState({ busy: false, error: null });
  useEffect(() => {
    Promise.all([api.get('/v1/partners'), sitesById(api)]).then(([p, sites]) => setBase({ partners: p.items, sites }), (error) => setBase({ error }));
  }, []);
  useEffect(() => {
    setSlots(null);
    setSiteId('');
    setSlotKey('');
    if (!partnerId) {
      return;
    }
    const from = new Date();
    const to = new Date(from.getTime() + days * 86400000);
    api.get(`/v1/partners/${encodeURIComponent(partnerId)}/slots?from=${isoDay(from)}&to=${isoDay(to)}`).then((s) => {
      setSlots({ items: s.items });
      const siteIds = [...new Set(s.items.map((x) => x.site_id))];
      if (siteIds.length === 1) {
        setSiteId(siteIds[0]);
      }
    }, (error) => setSlots({ error }));
  }, [partnerId]);
  const partner = base.partners && base.partners.find((p) => p.id === partnerId);
  const purpose = partner && partner.purposes.find((p) => p.id === purposeId);
  const site = base.sites && base.sites[siteId];
  const siteSlots = slots && slots.items ? slots.items.filter((s) => s.site_id === siteId) : [];
  const keyOf = (s) => `${s.window_id}|${s.start}`;
  const slot = siteSlots.find((s) => keyOf(s) === slotKey);
  const confirm = async (e) => {
    e.preventDefault();
    setSubmit({ busy: true, error: null });
    try {
      await api.post('/v1/appointments', { window_id: slot.window_id, start: slot.start, purpose_id: purposeId }, { idempotent: true });
      announce(t('servicesapp.book.done'));
      navigate('/services');
    } catch (error) {
      setSubmit({ busy: false, error });
    }
  };
  // The slots by day, in the site's zone.
  const byDay = [];
  if (site) {
    for (const s of siteSlots) {
      const k = dayKey(s.start, site.timezone);
      const last = byDay[byDay.length - 1];
      if (last && last.key === k) {
        last.slots.push(s);
      } else {
        byDay.push({ key: k, slots: [s] });
      }
    }
  }
  return html`
    <${Page} title=${t('servicesapp.book.title')}>
      <p>${t('servicesapp.book.intro')}</p>
      ${base.loading && html`<p role="status">${t('loading')}</p>`}
      ${base.error && html`<p class="alert alert--error" role="alert">${errorText(base.error, t)}</p>`}
      ${base.partners && base.partners.length === 0 && html`<p class="empty">${t('servicesapp.book.nopartner')}</p>`}
      <form class="form services-book" onSubmit=${confirm} novalidate>
        ${base.partners && base.partners.length > 0 && html`
          <${Choice} name="partner" legend=${t('servicesapp.book.partner')} items=${base.partners} value=${partnerId}
            onChange=${(id) => { setPartnerId(id); setPurposeId(''); }} label=${(p) => p.name} />`}
        ${partner && html`
          <${Choice} name="purpose" legend=${t('servicesapp.book.purpose')} items=${partner.purposes} value=${purposeId} onChange=${setPurposeId}
            label=${(p) => p.name} hint=${(p) => (p.documents && p.documents.length ? t('servicesapp.book.bring', { list: p.documents.join(', ') }) : '')} />`}
        ${partner && purposeId && slots && slots.error && html`<p class="alert alert--error" role="alert">${errorText(slots.error, t)}</p>`}
        ${partner && purposeId && slots && slots.items && slots.items.length === 0 && html`<p class="empty">${t('servicesapp.book.noslot', { n: days })}</p>`}
        ${partner && purposeId && slots && slots.items && slots.items.length > 0 && html`
          <${Choice} name="site" legend=${t('servicesapp.book.site')} items=${[...new Set(slots.items.map((s) => s.site_id))].map((id) => base.sites[id] || { id, name: id })}
            value=${siteId} onChange=${(id) => { setSiteId(id); setSlotKey(''); }} label=${(s) => s.name} hint=${(s) => addressText(s.address)} />`}
        ${purposeId && site && html`
          <fieldset class="choices services-step">
            <legend>${t('servicesapp.book.slot')}</legend>
            ${byDay.map((d) => html`
              <div key=${d.key} class="services-day" role="group" aria-labelledby="day-${d.key}">
                <p id="day-${d.key}" class="services-day__name">${formatDate(d.slots[0].start, lang, site.timezone)}</p>
                <div class="services-slots">
                  ${d.slots.map((s) => html`
                    <div class="choice" key=${keyOf(s)}>
                      <input type="radio" id="slot-${s.window_id}-${s.start}" name="slot" checked=${slotKey === keyOf(s)} onChange=${() => setSlotKey(keyOf(s))} />
                      <label for="slot-${s.window_id}-${s.start}">${formatTime(s.start, lang, site.timezone)}</label>
                    </div>`)}
                </div>
              </div>`)}
          </fieldset>`}
        ${slot && purpose && html`
          <div class="card services-summary" aria-labelledby="book-summary">
            <h2 id="book-summary">${t('servicesapp.book.summary')}</h2>
            <p>${t('servicesapp.book.summary.text', { partner: partner.name, purpose: purpose.name, when: sessionWhen(slot, lang, site.timezone), site: site.name })}</p>
            ${purpose.documents && purpose.documents.length > 0 && html`
              <p>${t('servicesapp.appt.bring')}</p>
              <ul>${purpose.documents.map((d) => html`<li key=${d}>${d}</li>`)}</ul>`}
            ${submit.error && html`<p class="alert alert--error" role="alert">${errorText(submit.error, t)}</p>`}
            <button class="button" type="submit" disabled=${submit.busy}>${t('servicesapp.book.confirm')}</button>
          </div>`}
      </form>
    <//>`;
}
