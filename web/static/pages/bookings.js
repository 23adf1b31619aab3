// My bookings: the coming ones and the past ones, page by page, each in
// its site's time zone; a coming booking is moved (quoted first), cancelled
// (saying first what is given back), checked in when the API allows it,
// and a recurring one cancelled whole.
import { html, useState, useEffect, useRef } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { Field, errorText } from '../lib/forms.js';
import { formatDate, formatTime, formatTimeRange, dayKey } from '../lib/format.js';
import { dayHours, zonedInstant } from '../lib/booking.js';
import { refusalText, failureText, priceText, refundText, when } from '../lib/bookingtext.js';
import { loadCatalog } from './book.js';

const pageSize = 10;
// A booking may be checked in from 15 minutes before its start
// (POST /v1/reservations/{id}/check-in).
const checkInEarlyMs = 15 * 60000;

// Move: the booking's new day and hours, and another resource of the
// same kind at the same place if the member wants (others: the desks or
// rooms a member may book there; none for an occurrence of a series, which
// stays on the series' resource), quoted before it moves.
function Move({ r, res: current, others, site, onMoved, onClose }) {
  const { t, lang, api, announce } = useApp();
  const tz = site.timezone;
  const [date, setDate] = useState(dayKey(r.start, tz));
  const [target, setTarget] = useState(r.resource_id);
  const res = others.find((x) => x.id === target) || current;
  // The slot grid of a day, from its opening hours.
  const optionsOn = (d, rr = res) => {
    const out = [];
    for (const [a, b] of dayHours(rr.opening_hours !== null ? rr.opening_hours : site.opening_hours, d)) {
      for (let m = a; m <= b; m += rr.rules.slot_minutes) {
        out.push(zonedInstant(d, m, tz));
      }
    }
    return out;
  };
  const options = optionsOn(date);
  // nearest: the same hour as iso on that day's grid.
  const nearest = (iso, opts = options) => opts.find((o) => formatTime(o, 'en', tz) === formatTime(iso, 'en', tz)) || opts[0] || '';
  const [start, setStart] = useState(() => nearest(r.start));
  const [end, setEnd] = useState(() => nearest(r.end));
  const [quote, setQuote] = useState(null);
  const [error, setError] = useState(null);
  const body = () => (target === r.resource_id ? { start, end } : { start, end, resource_id: target });
  const headingRef = useRef(null);
  const seq = useRef(0);
  useEffect(() => {
    headingRef.current.focus();
  }, []);
  useEffect(() => {
    if (!start || !end) {
      setQuote(null);
      return;
    }
    const n = ++seq.current;
    setQuote({ loading: true });
    api.post(`/v1/reservations/${encodeURIComponent(r.id)}/quote`, body()).then((data) => {
      if (n === seq.current) {
        setQuote({ data });
        announce(data.bookable ? priceText(data.price, t, lang) : refusalText(data.refusal, t));
      }
    }, (e) => n === seq.current && setQuote({ error: e }));
  }, [start, end, target]);
  const confirm = async () => {
    try {
      const moved = await api.patch(`/v1/reservations/${encodeURIComponent(r.id)}`, body());
      const said = t('bookings.moved', { date: formatDate(moved.start, lang, tz), time: formatTimeRange(moved.start, moved.end, lang, tz) });
      onMoved(target === r.resource_id ? said : `${said} ${t('bookings.moved.to', { name: res.name })}`);
    } catch (e) {
      setError(e);
    }
  };
  const q = quote && quote.data;
  return html`
    <div class="booking__panel" role="group" aria-labelledby="move-${r.id}">
      <h4 id="move-${r.id}" tabindex="-1" ref=${headingRef}>${t('bookings.move.title')}</h4>
      ${others.length > 1 && html`
        <${Field} name="move-resource" label=${t('bookings.move.resource')} value=${target} onInput=${(v) => {
          // Another resource: the same hours on its grid.
          const next = others.find((x) => x.id === v);
          if (next) {
            const opts = optionsOn(date, next);
            setTarget(v);
            setStart(nearest(start, opts));
            setEnd(nearest(end, opts));
          }
        }}>
          ${others.map((x) => html`<option key=${x.id} value=${x.id}>${x.name}</option>`)}
        <//>`}
      <${Field} name="move-date" type="date" label=${t('book.date')} value=${date} onInput=${(v) => {
        if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
          // Another day: the same hours on it.
          const opts = optionsOn(v);
          setDate(v);
          setStart(nearest(r.start, opts));
          setEnd(nearest(r.end, opts));
        }
      }} />
      <div class="panel__times">
        <${Field} name="move-start" label=${t('book.start')} value=${start} onInput=${(v) => {
          setStart(v);
          if (end <= v) {
            setEnd(options.find((o) => o > v) || '');
          }
        }}>
          ${options.slice(0, -1).map((o) => html`<option key=${o} value=${o}>${formatTime(o, lang, tz)}</option>`)}
        <//>
        <${Field} name="move-end" label=${t('book.end')} value=${end} onInput=${setEnd}>
          ${options.filter((o) => o > start).map((o) => html`<option key=${o} value=${o}>${formatTime(o, lang, tz)}</option>`)}
        <//>
      </div>
      ${options.length === 0 && html`<p>${t('book.closed')}</p>`}
      ${quote && quote.loading && html`<p class="quote">${t('book.quote.loading')}</p>`}
      ${quote && quote.error && html`<p class="alert alert--error">${failureText(quote.error, t)}</p>`}
      ${q && (q.bookable
        ? html`<div class="quote quote--ok"><p class="quote__price">${priceText(q.price, t, lang)}</p>
            <p>${t('book.deadline', { when: when(q.cancellation_deadline, t, lang, tz) })}</p></div>`
        : html`<p class="alert alert--error quote__refusal">${refusalText(q.refusal, t)}</p>`)}
      ${error && html`<p class="alert alert--error" role="alert">${failureText(error, t)}</p>`}
      <div class="actions">
        <button class="button" type="button" disabled=${!q || !q.bookable} onClick=${confirm}>${t('bookings.move.confirm')}</button>
        <button class="button button--secondary" type="button" onClick=${onClose}>${t('bookings.keep')}</button>
      </div>
    </div>`;
}

// sameKindAt: the resources of res's kind at its site that a member may
// book, res first, then by name.
function sameKindAt(catalog, res) {
  const others = Object.values(catalog.resources)
    .filter((x) => x.id !== res.id && x.site_id === res.site_id && x.kind === res.kind && x.member_bookable && !x.retired)
    .sort((a, b) => a.name.localeCompare(b.name));
  return [res, ...others];
}

// Cancel: what cancelling now gives back, then the cancellation.
function Cancel({ r, site, onCancelled, onClose }) {
  const { t, lang, api } = useApp();
  const tz = site.timezone;
  const [quote, setQuote] = useState(null);
  const [error, setError] = useState(null);
  const body = () => (target === r.resource_id ? { start, end } : { start, end, resource_id: target });
  const headingRef = useRef(null);
  useEffect(() => {
    api.get(`/v1/reservations/cancellation/${encodeURIComponent(r.id)}`).then((data) => setQuote({ data }), (e) => setQuote({ error: e }));
    if (headingRef.current) {
      headingRef.current.focus();
    }
  }, []);
  const confirm = async () => {
    try {
      await api.del(`/v1/reservations/${encodeURIComponent(r.id)}`);
      onCancelled(t('bookings.cancelled'));
    } catch (e) {
      setError(e);
    }
  };
  const q = quote && quote.data;
  return html`
    <div class="booking__panel" role="group" aria-labelledby="cancel-${r.id}">
      <h4 id="cancel-${r.id}" tabindex="-1" ref=${headingRef}>${t('bookings.cancel.title')}</h4>
      ${!quote && html`<p>${t('loading')}</p>`}
      ${quote && quote.error && html`<p class="alert alert--error">${failureText(quote.error, t)}</p>`}
      ${q && html`<div class="refund">${refundText(q, t, lang, tz).map((line) => html`<p key=${line}>${line}</p>`)}</div>`}
      ${error && html`<p class="alert alert--error" role="alert">${failureText(error, t)}</p>`}
      <div class="actions">
        <button class="button button--danger" type="button" disabled=${!q || !q.allowed} onClick=${confirm}>${t('bookings.cancel.confirm')}</button>
        <button class="button button--secondary" type="button" onClick=${onClose}>${t('bookings.keep')}</button>
      </div>
    </div>`;
}

// CancelSeries: every coming occurrence of a recurring booking.
function CancelSeries({ r, onCancelled, onClose }) {
  const { t, api } = useApp();
  const [error, setError] = useState(null);
  const headingRef = useRef(null);
  useEffect(() => {
    headingRef.current.focus();
  }, []);
  const confirm = async () => {
    try {
      const out = await api.del(`/v1/reservations/series/${encodeURIComponent(r.series_id)}`);
      onCancelled(t('bookings.series.cancelled', { n: out.cancelled.length }));
    } catch (e) {
      setError(e);
    }
  };
  return html`
    <div class="booking__panel" role="group" aria-labelledby="series-${r.id}">
      <h4 id="series-${r.id}" tabindex="-1" ref=${headingRef}>${t('bookings.series.title')}</h4>
      <p>${t('bookings.series.text')}</p>
      ${error && html`<p class="alert alert--error" role="alert">${failureText(error, t)}</p>`}
      <div class="actions">
        <button class="button button--danger" type="button" onClick=${confirm}>${t('bookings.series.confirm')}</button>
        <button class="button button--secondary" type="button" onClick=${onClose}>${t('bookings.keep')}</button>
      </div>
    </div>`;
}

function Booking({ r, catalog, upcoming, onChange }) {
  const { t, lang, api, announce } = useApp();
  const [open, setOpen] = useState('');
  const [error, setError] = useState(null);
  const res = catalog.resources[r.resource_id];
  const site = catalog.site(r.site_id) || { timezone: 'Europe/Paris', name: '', opening_hours: null };
  const tz = site.timezone;
  const now = Date.now();
  const canCheckIn = upcoming && r.status === 'confirmed' && !r.checked_in_at && res && res.kind !== 'machine'
    && now >= new Date(r.start).getTime() - checkInEarlyMs && now < new Date(r.end).getTime();
  const movable = upcoming && r.status === 'confirmed' && new Date(r.start).getTime() > now && res;
  const done = (text) => {
    setOpen('');
    announce(text);
    onChange(text);
  };
  const checkIn = async () => {
    try {
      await api.post(`/v1/reservations/${encodeURIComponent(r.id)}/check-in`);
      done(t('bookings.checked_in'));
    } catch (e) {
      setError(e);
    }
  };
  return html`
    <li class="booking">
      <div id="bk-${r.id}">
        <p class="booking__date">${formatDate(r.start, lang, tz)}</p>
        <p class="booking__time">${formatTimeRange(r.start, r.end, lang, tz)}</p>
        <p class="booking__what">${res ? res.name : t('home.resource')}</p>
        <p class="booking__where">${site.name}</p>
      </div>
      ${r.status === 'held' && html`<p class="badge">${t('home.held')}</p> <p><a href="/book">${t('bookings.held.accept')}</a></p>`}
      ${r.status === 'cancelled' && html`<p class="badge">${r.late_cancel ? t('bookings.status.late_cancel') : t('bookings.status.cancelled')}</p>`}
      ${r.checked_in_at && html`<p class="badge badge--ok">${t('bookings.status.checked_in')}</p>`}
      ${r.series_id && html`<p class="badge">${t('bookings.series')}</p>`}
      ${error && html`<p class="alert alert--error" role="alert">${failureText(error, t)}</p>`}
      ${upcoming && r.status === 'confirmed' && !open && html`
        <div class="actions">
          ${canCheckIn && html`<button class="button" type="button" aria-describedby="bk-${r.id}" onClick=${checkIn}>${t('bookings.check_in')}</button>`}
          ${movable && html`<button class="button button--secondary" type="button" aria-describedby="bk-${r.id}" onClick=${() => setOpen('move')}>${t('bookings.move')}</button>`}
          <button class="button button--secondary" type="button" aria-describedby="bk-${r.id}" onClick=${() => setOpen('cancel')}>${t('bookings.cancel')}</button>
          ${r.series_id && html`<button class="button button--secondary" type="button" aria-describedby="bk-${r.id}" onClick=${() => setOpen('series')}>${t('bookings.series.cancel')}</button>`}
        </div>`}
      ${open === 'move' && html`<${Move} r=${r} res=${res} others=${r.series_id ? [res] : sameKindAt(catalog, res)} site=${site} onMoved=${done} onClose=${() => setOpen('')} />`}
      ${open === 'cancel' && html`<${Cancel} r=${r} site=${site} onCancelled=${done} onClose=${() => setOpen('')} />`}
      ${open === 'series' && html`<${CancelSeries} r=${r} onCancelled=${done} onClose=${() => setOpen('')} />`}
    </li>`;
}

// List: the coming bookings, soonest first, page by page.
function List({ title, id, query, catalog, reload, onChange }) {
  const { t, api } = useApp();
  const [state, setState] = useState({ items: [], loading: true });
  const load = async (cursor) => {
    setState((s) => ({ ...s, loading: true }));
    try {
      const page = await api.get(`/v1/reservations?${query}&limit=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      setState((s) => ({ items: cursor ? [...s.items, ...page.items] : page.items, next: page.next_cursor, loading: false }));
    } catch (error) {
      setState((s) => ({ ...s, error, loading: false }));
    }
  };
  useEffect(() => {
    load('');
  }, [reload]);
  return html`
    <section class="bookings-list" aria-labelledby=${id}>
      <h2 id=${id}>${title}</h2>
      ${state.error && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
      ${!state.loading && state.items.length === 0 && html`<p class="empty">${t('home.empty')}</p>`}
      <ul class="bookings">
        ${state.items.map((r) => html`<${Booking} key=${`${r.id}-${r.updated_at}`} r=${r} catalog=${catalog} upcoming onChange=${onChange} />`)}
      </ul>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${state.next && !state.loading && html`<button class="button button--secondary more" type="button" onClick=${() => load(state.next)}>${t('bookings.more')}</button>`}
    </section>`;
}

// A page of the past bookings is a month: the API lists by start, the
// soonest first, and the past reads best the latest first.
const monthMs = 30 * 86400000;
const pastMonths = 12;

// Past: the bookings over before now, the latest first, a month at a time.
function Past({ now, catalog, reload }) {
  const { t, api } = useApp();
  const [state, setState] = useState({ items: [], months: 0, loading: true });
  const load = async (months) => {
    setState((s) => ({ ...s, loading: true }));
    try {
      const to = new Date(now.getTime() - months * monthMs);
      const from = new Date(to.getTime() - monthMs);
      const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&limit=100`;
      let items = [];
      let cursor = '';
      // The whole month, however many pages: rarely more than one.
      do {
        const page = await api.get(`/v1/reservations?${q}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        items = items.concat(page.items);
        cursor = page.next_cursor || '';
      } while (cursor);
      items = items.filter((r) => new Date(r.end) <= now).reverse();
      setState((s) => {
        const prev = months === 0 ? [] : s.items;
        // A booking across the months' boundary is in both answers.
        const seen = new Set(prev.map((r) => r.id));
        return { items: [...prev, ...items.filter((r) => !seen.has(r.id))], months: months + 1, loading: false };
      });
    } catch (error) {
      setState((s) => ({ ...s, error, loading: false }));
    }
  };
  useEffect(() => {
    load(0);
  }, [reload]);
  return html`
    <section class="bookings-list" aria-labelledby="past-title">
      <h2 id="past-title">${t('bookings.past')}</h2>
      ${state.error && html`<p class="alert alert--error" role="alert">${errorText(state.error, t)}</p>`}
      ${!state.loading && state.items.length === 0 && html`<p class="empty">${t('bookings.past.empty', { months: state.months })}</p>`}
      <ul class="bookings">
        ${state.items.map((r) => html`<${Booking} key=${`${r.id}-${r.updated_at}`} r=${r} catalog=${catalog} upcoming=${false} />`)}
      </ul>
      ${state.loading && html`<p role="status">${t('loading')}</p>`}
      ${!state.loading && state.months < pastMonths && html`
        <button class="button button--secondary more" type="button" onClick=${() => load(state.months)}>${t('bookings.past.more')}</button>`}
    </section>`;
}

export default function Bookings() {
  const { t, api } = useApp();
  const [catalog, setCatalog] = useState(null);
  const [error, setError] = useState(null);
  const [reload, setReload] = useState(0);
  const [said, setSaid] = useState('');
  // The lists' windows are fixed when the page opens: "now" does not
  // move under a page being read.
  const [now] = useState(() => new Date());
  useEffect(() => {
    loadCatalog(api).then(setCatalog, setError);
  }, []);
  const nowQ = encodeURIComponent(now.toISOString());
  const onChange = (text) => {
    setSaid(text);
    setReload((n) => n + 1);
  };
  return html`
    <${Page} title=${t('bookings.title')} wide>
      <p><a class="button" href="/book">${t('bookings.book')}</a></p>
      ${said && html`<p class="alert alert--success">${said}</p>`}
      ${error && html`<div class="alert alert--error" role="alert">${errorText(error, t)}</div>`}
      ${!catalog && !error && html`<p role="status">${t('loading')}</p>`}
      ${catalog && html`
        <${List} id="upcoming-title" title=${t('bookings.upcoming')} query=${`from=${nowQ}&status=confirmed,held`} catalog=${catalog}
          reload=${reload} onChange=${onChange} />
        <${Past} now=${now} catalog=${catalog} reload=${reload} />`}
    <//>`;
}
