// A person's page at the desk (GET /v1/sites/{site_id}/people/{user_id}):
// their rights, bookings, payments, invoices, credit, qualifications and
// the managers' notes; add a note, sell a plan at the desk (the invoice's
// PDF link shown at once), grant a qualification. A person of another
// site, or unknown, is a plain "not found".
import { html, useState } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { ApiError } from '../../lib/api.js';
import { Field, FormError, useSubmit } from '../../lib/forms.js';
import { useLoad, Problem, BuyerFields, emptyAddress, DownloadLink, minutesText } from '../../lib/wallet.js';
import { formatDate, formatTimeRange, formatPrice, dayKey } from '../../lib/format.js';
import { useConsoleSite, ConsoleFrame, Facts, euros } from '../../lib/console.js';

async function loadPerson(api, site, userID) {
  const id = encodeURIComponent(site.id);
  const [person, plans, quals, resources] = await Promise.all([
    api.get(`/v1/sites/${id}/people/${encodeURIComponent(userID)}`),
    api.get(`/v1/plans?site_id=${id}`),
    api.get(`/v1/sites/${id}/qualifications?limit=200`),
    api.get(`/v1/sites/${id}/resources?limit=200`),
  ]);
  const names = {};
  for (const r of resources.items) {
    names[r.id] = r.name;
  }
  return { person, plans: plans.items, quals: quals.items, names };
}

function notFound(err) {
  // Another site's person (403 for a site not managed, 404 for one not
  // related to this site) and a malformed id read the same: not here.
  return err instanceof ApiError && [400, 403, 404, 422].includes(err.status);
}

function Rights({ site, p }) {
  const { t, lang } = useApp();
  const zone = site.timezone;
  return html`
    <section aria-labelledby="person-rights">
      <h2 id="person-rights">${t('console.person.rights')}</h2>
      <p class="badge ${p.entry_now.allowed ? 'badge--ok' : ''}">${p.entry_now.allowed ? t('console.person.entry.yes') : t('console.person.entry.no')}</p>
      <ul class="console-list">
        ${p.memberships.map((m) => html`<li key=${m.id}>${m.plan_name} · ${t(`console.membership.${m.status}`)}${m.current_period_end ? ` · ${t('console.person.until', { date: formatDate(m.current_period_end, lang, zone) })}` : ''}</li>`)}
        ${p.day_passes.map((d) => html`<li key=${d.id}>${d.plan_name} · ${formatDate(d.starts_at, lang, zone)}</li>`)}
        ${p.packs.map((k) => html`<li key=${k.id}>${k.plan_name} · ${minutesText(k.minutes)} · ${t('console.person.until', { date: formatDate(k.valid_until, lang, zone) })}</li>`)}
        ${p.credit.map((c) => html`<li key=${`${c.unit}-${c.resource_kind}`}>${t('console.person.credit')}${t('console.colon')}${c.unit === 'cents' ? formatPrice(c.available, lang) : minutesText(c.available)}</li>`)}
      </ul>
      ${p.memberships.length + p.day_passes.length + p.packs.length + p.credit.length === 0 && html`<p>${t('console.person.norights')}</p>`}
    </section>`;
}

function Activity({ site, data }) {
  const { t, lang } = useApp();
  const p = data.person;
  const zone = site.timezone;
  return html`
    <section aria-labelledby="person-bookings">
      <h2 id="person-bookings">${t('console.person.bookings')}</h2>
      ${p.upcoming_reservations.length === 0 ? html`<p>${t('console.person.nobooking')}</p>` : html`
        <ul class="console-list">${p.upcoming_reservations.map((r) => html`
          <li key=${r.id}>${formatDate(r.start, lang, zone)} · ${formatTimeRange(r.start, r.end, lang, zone)} · ${data.names[r.resource_id] || ''}</li>`)}</ul>`}
    </section>
    <section aria-labelledby="person-invoices">
      <h2 id="person-invoices">${t('console.person.invoices')}</h2>
      ${p.invoices.length === 0 ? html`<p>${t('console.person.noinvoice')}</p>` : html`
        <ul class="console-list">${p.invoices.map((i) => html`
          <li key=${i.id}>${i.number} · ${formatPrice(i.total_ttc_cents, lang)} · <${DownloadLink} href="/v1/invoices/${encodeURIComponent(i.id)}/pdf" aria-label=${t('console.person.pdf.named', { number: i.number })}>${t('console.person.pdf')}<//></li>`)}</ul>`}
      <h3>${t('console.person.payments')}</h3>
      ${p.payments.length === 0 ? html`<p>${t('console.person.nopayment')}</p>` : html`
        <ul class="console-list">${p.payments.map((x) => html`
          <li key=${x.id}>${formatDate(x.created_at, lang, zone)} · ${formatPrice(x.amount_cents, lang)} · ${t(`console.method.${x.method}`)}${x.discount_cents ? ` · ${t('console.sell.discounted', { amount: formatPrice(x.discount_cents, lang), reason: x.discount_reason })}` : ''}</li>`)}</ul>`}
    </section>
    <section aria-labelledby="person-quals">
      <h2 id="person-quals">${t('console.person.quals')}</h2>
      ${p.qualifications.length === 0 ? html`<p>${t('console.person.noqual')}</p>` : html`
        <ul class="console-list">${p.qualifications.map((q) => html`<li key=${q.id}>${q.name}</li>`)}</ul>`}
    </section>`;
}

function Sell({ site, data, reload }) {
  const { t, lang, api, announce } = useApp();
  const plans = data.plans;
  const [planID, setPlanID] = useState(plans[0] ? plans[0].id : '');
  const [date, setDate] = useState(dayKey(new Date(), site.timezone));
  const [method, setMethod] = useState('cash');
  const [reference, setReference] = useState('');
  const [discount, setDiscount] = useState('');
  const [reason, setReason] = useState('');
  const [address, setAddress] = useState(emptyAddress);
  const [sold, setSold] = useState(null);
  const plan = plans.find((x) => x.id === planID);
  const off = discount.trim() === '' ? 0 : euros(discount);
  const s = useSubmit(async () => {
    setSold(null);
    if (Number.isNaN(off)) {
      throw new ApiError(422, { detail: t('console.sell.badamount'), errors: [{ field: 'discount.amount_cents', reason: t('console.sell.badamount') }] });
    }
    const body = {
      user_id: data.person.id, plan_id: planID, method, amount_cents: plan.price_cents - off,
      buyer: { address: { ...address, country: 'FR' } },
    };
    if (plan.kind === 'day_pass') {
      body.date = date;
    }
    if (reference.trim()) {
      body.reference = reference.trim();
    }
    if (off > 0 || reason.trim()) {
      body.discount = { amount_cents: off, reason };
    }
    const bought = await api.post(`/v1/sites/${encodeURIComponent(site.id)}/payments`, body, { idempotent: true });
    const pay = bought.payment;
    setSold(pay);
    // The next sale starts without this one's discount or reference.
    setDiscount('');
    setReason('');
    setReference('');
    announce(t('console.sell.done', { amount: formatPrice(pay.amount_cents, lang) }));
    reload();
  });
  if (plans.length === 0) {
    return html`<section><h2>${t('console.sell.title')}</h2><p>${t('console.sell.noplan')}</p></section>`;
  }
  return html`
    <section aria-labelledby="person-sell">
      <h2 id="person-sell">${t('console.sell.title')}</h2>
      ${sold && html`<div class="alert alert--success" role="status">
        ${t('console.sell.done', { amount: formatPrice(sold.amount_cents, lang) })}
        ${sold.invoice_id && html` <${DownloadLink} href="/v1/invoices/${encodeURIComponent(sold.invoice_id)}/pdf" class="console-invoice">${t('console.sell.invoice')}<//>`}
      </div>`}
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="sell-plan" label=${t('console.sell.plan')} value=${planID} onInput=${setPlanID} error=${s.fields.plan_id}>
          ${plans.map((x) => html`<option key=${x.id} value=${x.id}>${x.name} · ${formatPrice(x.price_cents, lang)}</option>`)}
        <//>
        ${plan && plan.kind === 'day_pass' && html`<${Field} name="sell-date" type="date" label=${t('console.sell.date')} value=${date} onInput=${setDate} required error=${s.fields.date} />`}
        <${Field} name="sell-method" label=${t('console.sell.method')} value=${method} onInput=${setMethod} error=${s.fields.method}>
          ${['cash', 'cheque', 'transfer', 'card'].map((m) => html`<option key=${m} value=${m}>${t(`console.method.${m}`)}</option>`)}
        <//>
        <${Field} name="sell-reference" label=${t('console.sell.reference')} hint=${t('console.sell.reference.hint')} value=${reference} onInput=${setReference} error=${s.fields.reference} />
        <${Field} name="sell-discount" label=${t('console.sell.discount')} hint=${t('console.sell.discount.hint')} inputmode="decimal" value=${discount} onInput=${setDiscount} error=${s.fields['discount.amount_cents']} />
        <${Field} name="sell-reason" label=${t('console.sell.reason')} hint=${t('console.sell.reason.hint')} value=${reason} onInput=${setReason} error=${s.fields['discount.reason']} />
        <${BuyerFields} prefix="sell" value=${address} onInput=${setAddress} fields=${s.fields} />
        ${plan && html`<p class="console-total">${t('console.sell.total', { amount: formatPrice(plan.price_cents - (Number.isNaN(off) ? 0 : off), lang) })}</p>`}
        <button class="button" type="submit">${t('console.sell.submit')}</button>
      </form>
    </section>`;
}

function Grant({ data, reload }) {
  const { t, api, announce } = useApp();
  const held = new Set(data.person.qualifications.map((q) => q.id));
  const left = data.quals.filter((q) => !held.has(q.id));
  const [qid, setQid] = useState(left[0] ? left[0].id : '');
  const s = useSubmit(async () => {
    await api.post(`/v1/qualifications/${encodeURIComponent(qid)}/grants`, { user_id: data.person.id }, { idempotent: true });
    announce(t('console.grant.done'));
    reload();
  });
  if (left.length === 0) {
    return null;
  }
  return html`
    <section aria-labelledby="person-grant">
      <h2 id="person-grant">${t('console.grant.title')}</h2>
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="grant-qual" label=${t('console.grant.qual')} value=${qid} onInput=${setQid} error=${s.fields.user_id}>
          ${left.map((q) => html`<option key=${q.id} value=${q.id}>${q.name}</option>`)}
        <//>
        <button class="button" type="submit">${t('console.grant.submit')}</button>
      </form>
    </section>`;
}

function Notes({ site, data, reload }) {
  const { t, lang, api, announce } = useApp();
  const [note, setNote] = useState('');
  const s = useSubmit(async () => {
    await api.post(`/v1/sites/${encodeURIComponent(site.id)}/people/${encodeURIComponent(data.person.id)}/notes`, { note }, { idempotent: true });
    setNote('');
    announce(t('console.notes.done'));
    reload();
  });
  return html`
    <section aria-labelledby="person-notes">
      <h2 id="person-notes">${t('console.notes.title')}</h2>
      <p class="hint">${t('console.notes.private')}</p>
      ${data.person.notes.length > 0 && html`<ul class="console-list">${data.person.notes.map((n) => html`
        <li key=${n.id}><p class="console-note">${n.note}</p><p class="hint">${n.author_name} · ${formatDate(n.created_at, lang, site.timezone)}</p></li>`)}</ul>`}
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <div class="field">
          <label for="field-note">${t('console.notes.new')}</label>
          <textarea id="field-note" name="note" rows="3" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
        </div>
        <button class="button" type="submit">${t('console.notes.submit')}</button>
      </form>
    </section>`;
}

function PersonOf({ site, userID }) {
  const { t, api } = useApp();
  const s = useLoad(() => loadPerson(api, site, userID), [site.id, userID]);
  if (s.error && notFound(s.error)) {
    return html`
      <h2>${t('console.person.notfound.title')}</h2>
      <div class="alert alert--error" role="alert">${t('console.person.notfound')}</div>
      <p><a href="/console/people">${t('console.person.back')}</a></p>`;
  }
  if (!s.data) {
    return html`${!s.error && html`<p role="status">${t('loading')}</p>`}<${Problem} error=${s.error} />`;
  }
  const p = s.data.person;
  return html`
    <h2 class="console-person">${p.name}</h2>
    <${Problem} error=${s.error} />
    <${Facts} items=${[
      [t('field.email'), p.email || t('console.person.noemail')],
      [t('field.phone'), p.phone || '—'],
    ]} />
    <div class="console-columns">
      <div><${Rights} site=${site} p=${p} /><${Activity} site=${site} data=${s.data} /></div>
      <div>
        <${Sell} site=${site} data=${s.data} reload=${s.reload} />
        <${Grant} key=${p.qualifications.length} data=${s.data} reload=${s.reload} />
        <${Notes} site=${site} data=${s.data} reload=${s.reload} />
      </div>
    </div>`;
}

export default function Person({ params }) {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('console.person.title')} current="/console/people" cs=${cs}>
      ${cs.site && html`<${PersonOf} key=${cs.site.id} site=${cs.site} userID=${params.id} />`}
    <//>`;
}
