// Book: choose a site, a kind of resource and a day, see each resource's
// free and busy slots on a timeline (in the site's time zone), pick one,
// set its times, see what it would cost — or why it is refused — before
// confirming; repeat it, or queue for a slot taken. The member's open
// offers from the waiting list are at the top, to accept.
import { html, useState, useEffect, useRef } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { Field, errorText } from '../lib/forms.js';
import { formatDate, formatTime, formatTimeRange, dayKey } from '../lib/format.js';
import { addDays, dayHours, slotsOf, steps, rrule, weekdayOf } from '../lib/booking.js';
import { refusalText, failureText, priceText, when } from '../lib/bookingtext.js';

export const kinds = ['desk', 'room', 'zone', 'machine'];
const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// loadCatalog reads the sites and their resources (names, rules, hours):
// 1 + one call per site.
export async function loadCatalog(api) {
  const sites = (await api.get('/v1/sites?limit=200')).items;
  const resources = {};
  await Promise.all(sites.map(async (s) => {
    const rs = await api.get(`/v1/sites/${encodeURIComponent(s.id)}/resources?limit=200`);
    for (const r of rs.items) {
      resources[r.id] = r;
    }
  }));
  return { sites, resources, site: (id) => sites.find((s) => s.id === id) };
}

function kindsOf(catalog, siteId) {
  const present = new Set(Object.values(catalog.resources)
    .filter((r) => r.site_id === siteId && r.member_bookable && !r.retired).map((r) => r.kind));
  return kinds.filter((k) => present.has(k));
}

// hoursOf: the resource's opening hours of date, or else its site's.
function hoursOf(resource, site, date) {
  return dayHours(resource.opening_hours !== null ? resource.opening_hours : site.opening_hours, date);
}

// Offers: the member's places in line; an offer is accepted here.
function Offers({ catalog, reload, onChange }) {
  const { t, lang, api, announce } = useApp();
  const [state, setState] = useState({ items: [] });
  useEffect(() => {
    api.get('/v1/waitlist').then((l) => setState((s) => ({ ...s, items: l.items.filter((e) => e.status === 'waiting' || e.status === 'offered') })),
      (error) => setState((s) => ({ ...s, error })));
  }, [reload]);
  const leave = async (e) => {
    try {
      await api.del(`/v1/waitlist/${encodeURIComponent(e.id)}`);
      announce(t('book.offer.left'));
      onChange();
    } catch (error) {
      setState((s) => ({ ...s, error }));
    }
  };
  const accept = async (e) => {
    try {
      await api.post(`/v1/waitlist/${encodeURIComponent(e.id)}/accept`, undefined, { idempotent: true });
      announce(t('book.offer.accepted'));
      setState((s) => ({ ...s, done: e.id }));
      onChange();
    } catch (error) {
      setState((s) => ({ ...s, error }));
    }
  };
  if (state.items.length === 0 && !state.error && !state.done) {
    return null;
  }
  return html`
    <section class="card offers" aria-labelledby="offers-title">
      <h2 id="offers-title">${t('book.offers.title')}</h2>
      ${state.error && html`<p class="alert alert--error" role="alert">${failureText(state.error, t)}</p>`}
      ${state.done && html`<p class="alert alert--success">${t('book.offer.accepted')} <a href="/bookings">${t('book.done.link')}</a></p>`}
      <ul class="offers__list">
        ${state.items.map((e) => {
          const res = catalog.resources[e.resource_id];
          const site = res && catalog.site(res.site_id);
          const tz = site ? site.timezone : 'Europe/Paris';
          return html`
            <li key=${e.id} class="offer">
              <p class="offer__what" id="offer-${e.id}">${res ? res.name : t('home.resource')} · ${formatDate(e.start, lang, tz)}, ${formatTimeRange(e.start, e.end, lang, tz)}</p>
              ${e.status === 'offered'
                ? html`<p>${t('book.offer.open', { when: when(e.offer_expires_at, t, lang, tz) })}</p>
                  <button class="button" type="button" aria-describedby="offer-${e.id}" onClick=${() => accept(e)}>${t('book.offer.accept')}</button>`
                : html`<p class="badge">${t('book.offer.waiting')}</p>`}
              <button class="button button--secondary" type="button" aria-describedby="offer-${e.id}" onClick=${() => leave(e)}>${t('book.offer.leave')}</button>
            </li>`;
        })}
      </ul>
    </section>`;
}

// shortTime: "9 h" for a whole hour in French, as people say it on a
// timeline; "9 h 30" and English "09:00" as formatTime says them.
export function shortTime(instant, lang, timeZone) {
  const s = formatTime(instant, lang, timeZone);
  return lang === 'fr' ? s.replace(/\u00a0h\u00a000$/, '\u00a0h') : s;
}

// SlotRow is one resource's day: a row of slot buttons, one Tab stop for
// the row (the arrows move within it, Home and End to its ends).
function SlotRow({ item, slots, tz, onPick }) {
  const { t, lang } = useApp();
  // The row's Tab stop: its first free slot, else its first busy one (to
  // queue for it); past slots are said but cannot be picked.
  const first = [slots.findIndex((s) => s.state === 'free'), slots.findIndex((s) => s.state === 'busy'), 0].find((i) => i >= 0);
  const [active, setActive] = useState(first);
  const ref = useRef(null);
  const move = (e) => {
    const last = slots.length - 1;
    const to = { ArrowRight: active + 1, ArrowLeft: active - 1, Home: 0, End: last }[e.key];
    if (to === undefined) {
      return;
    }
    e.preventDefault();
    const i = Math.min(last, Math.max(0, to));
    setActive(i);
    ref.current.querySelectorAll('button')[i].focus();
  };
  const titleId = `res-${item.resource_id}`;
  return html`
    <li class="timeline__row">
      <h3 id=${titleId} class="timeline__name">${item.name}</h3>
      ${slots.length === 0
        ? html`<p class="hint">${t('book.closed')}</p>`
        : html`<div class="slots" role="group" aria-labelledby=${titleId} ref=${ref} onKeyDown=${move}>
          ${slots.map((s, i) => html`
            <button key=${s.start} type="button" class="slot slot--${s.state}" tabindex=${i === active ? 0 : -1} data-slot=${`${item.resource_id}|${s.start}`}
              aria-label=${t('book.slot', { name: item.name, from: shortTime(s.start, lang, tz), to: shortTime(s.end, lang, tz), state: t(`book.state.${s.state}`) })}
              aria-disabled=${s.state === 'past' ? 'true' : undefined} onFocus=${() => setActive(i)}
              onClick=${() => s.state !== 'past' && onPick(item, s)}>
              <span aria-hidden="true">${shortTime(s.start, lang, tz)}</span>
            </button>`)}
        </div>`}
    </li>`;
}

function Timeline({ site, date, avail, catalog, onPick }) {
  const { t, lang } = useApp();
  const tz = site.timezone;
  if (avail.loading) {
    return html`<p role="status">${t('loading')}</p>`;
  }
  if (avail.error) {
    return html`<div class="alert alert--error" role="alert">${errorText(avail.error, t)}</div>`;
  }
  const now = new Date().toISOString();
  return html`
    <section class="timeline" aria-labelledby="timeline-title">
      <h2 id="timeline-title">${t('book.timeline.title', { date: formatDate(`${date}T12:00:00Z`, lang, 'UTC') })}</h2>
      <p class="legend" aria-hidden="true">
        <span class="legend__item"><span class="slot-key slot--free"></span>${t('book.state.free')}</span>
        <span class="legend__item"><span class="slot-key slot--busy"></span>${t('book.state.busy')}</span>
        <span class="legend__item"><span class="slot-key slot--past"></span>${t('book.state.past')}</span>
      </p>
      <p class="hint">${t('book.timeline.hint')}</p>
      ${avail.items.length === 0 && html`<p>${t('book.none')}</p>`}
      <ul class="timeline__list">
        ${avail.items.map((item) => {
          const res = catalog.resources[item.resource_id];
          const step = Math.max(60, res ? res.rules.slot_minutes : 60);
          const slots = res ? slotsOf({ date, timeZone: tz, hours: hoursOf(res, site, date), free: item.free, step, now }) : [];
          return html`<${SlotRow} key=${`${item.resource_id}-${date}`} item=${item} slots=${slots} tz=${tz} onPick=${onPick} />`;
        })}
      </ul>
    </section>`;
}

// QuoteView says what the booking (or each occurrence) would take, or
// why it is refused.
function QuoteView({ quote, tz, repeat }) {
  const { t, lang } = useApp();
  if (!quote || quote.loading) {
    return html`<p class="quote" role="status">${t('book.quote.loading')}</p>`;
  }
  if (quote.error) {
    return html`<p class="alert alert--error">${failureText(quote.error, t)}</p>`;
  }
  const q = quote.data;
  if (!repeat) {
    return q.bookable
      ? html`<div class="quote quote--ok">
          <p class="quote__price">${priceText(q.price, t, lang)}</p>
          <p>${t('book.deadline', { when: when(q.cancellation_deadline, t, lang, tz) })}</p>
        </div>`
      : html`<p class="alert alert--error quote__refusal">${refusalText(q.refusal, t)}</p>`;
  }
  const ok = q.occurrences.filter((o) => o.bookable).length;
  return html`
    <div class="quote">
      <p class="quote__summary">${t('book.series.summary', { ok, total: q.occurrences.length })}</p>
      <ul class="occurrences">
        ${q.occurrences.map((o) => html`
          <li key=${o.start} class="occurrence ${o.bookable ? '' : 'occurrence--conflict'}">
            <span class="occurrence__when">${formatDate(o.start, lang, tz)}, ${formatTimeRange(o.start, o.end, lang, tz)}</span>
            <span>${o.bookable ? priceText(o.price, t, lang) : `${t('book.series.conflict')} ${refusalText(o.refusal, t)}`}</span>
          </li>`)}
      </ul>
    </div>`;
}

// Panel: the chosen slot's times, repetition, quote and confirmation.
function Panel({ site, resource, slot, date, onDone, onClose }) {
  const { t, lang, api, announce } = useApp();
  const tz = site.timezone;
  const rules = resource.rules;
  const free = slot.state === 'free';
  const startOptions = free ? steps(slot.interval.start, new Date(new Date(slot.interval.end).getTime() - rules.min_minutes * 60000).toISOString(), rules.slot_minutes) : [];
  const firstStart = free ? (startOptions.find((s) => s >= slot.start) || startOptions[0]) : slot.start;
  const endFor = (s) => {
    if (!free) {
      return [slot.end];
    }
    const from = new Date(new Date(s).getTime() + rules.min_minutes * 60000).toISOString();
    const last = Math.min(new Date(slot.interval.end).getTime(), new Date(s).getTime() + rules.max_minutes * 60000);
    return steps(from, new Date(last).toISOString(), rules.slot_minutes);
  };
  const [start, setStart] = useState(firstStart);
  const [end, setEnd] = useState(() => {
    const ends = endFor(firstStart);
    return ends.find((e) => e >= slot.end) || ends[0];
  });
  const [repeat, setRepeat] = useState(false);
  const [freq, setFreq] = useState('weekly');
  const [weekDays, setWeekDays] = useState([weekdayOf(date)]);
  const [endMode, setEndMode] = useState('count');
  const [count, setCount] = useState('4');
  const [until, setUntil] = useState(addDays(date, 28));
  const [skip, setSkip] = useState(false);
  const [quote, setQuote] = useState(null);
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const headingRef = useRef(null);
  const resultRef = useRef(null);
  const seq = useRef(0);

  useEffect(() => {
    if (headingRef.current) {
      headingRef.current.focus();
    }
  }, [slot.start, resource.id]);

  const body = () => {
    const b = { resource_id: resource.id, start, end };
    if (repeat) {
      b.rrule = rrule({ freq, days: weekDays, until: endMode === 'until' ? until : '', count: Number(count) || 1 });
      b.mode = skip ? 'skip_conflicts' : 'all_or_nothing';
    }
    return b;
  };

  useEffect(() => {
    if (result) {
      return;
    }
    const n = ++seq.current;
    setQuote({ loading: true });
    api.post(repeat ? '/v1/reservations/series/quote' : '/v1/reservations/quote', body()).then((data) => {
      if (n !== seq.current) {
        return;
      }
      setQuote({ data, repeat });
      if (repeat) {
        const ok = data.occurrences.filter((o) => o.bookable).length;
        announce(t('book.series.summary', { ok, total: data.occurrences.length }));
      } else {
        announce(data.bookable ? priceText(data.price, t, lang) : refusalText(data.refusal, t));
      }
    }, (error) => {
      if (n === seq.current) {
        setQuote({ error });
      }
    });
  }, [start, end, repeat, freq, weekDays.join(','), endMode, count, until, skip]);

  useEffect(() => {
    if (result && resultRef.current) {
      resultRef.current.focus();
    }
  }, [result]);

  const finish = (r) => {
    setResult(r);
    announce(r.text);
    onDone();
  };
  const confirm = async () => {
    setBusy(true);
    try {
      if (repeat) {
        const out = await api.post('/v1/reservations/series', body(), { idempotent: true });
        finish({ ok: true, text: t('book.done.series', { n: out.created.length }), skipped: out.skipped });
      } else {
        const r = await api.post('/v1/reservations', body(), { idempotent: true });
        finish({ ok: true, text: t('book.done', { name: resource.name, date: formatDate(r.start, lang, tz), time: formatTimeRange(r.start, r.end, lang, tz) }) });
      }
    } catch (error) {
      setResult({ error });
    } finally {
      setBusy(false);
    }
  };
  const joinWaitlist = async () => {
    setBusy(true);
    try {
      await api.post('/v1/waitlist', { resource_id: resource.id, start, end }, { idempotent: true });
      finish({ ok: true, text: t('book.waitlist.joined'), waitlist: true });
    } catch (error) {
      setResult({ error });
    } finally {
      setBusy(false);
    }
  };
  const toggleDay = (d) => setWeekDays((ds) => (ds.includes(d) ? ds.filter((x) => x !== d) : [...ds, d]));

  // A quote of the other mode (a single booking, a series) is no answer
  // until the new one comes.
  const shown = quote && (!quote.data || quote.repeat === repeat) ? quote : { loading: true };
  const q = shown.data;
  const taken = q && !repeat && !q.bookable && q.refusal && q.refusal.code === 'slot_taken';
  const someConflict = q && repeat && q.occurrences.some((o) => !o.bookable);
  return html`
    <section class="card panel" aria-labelledby="panel-title" onKeyDown=${(e) => e.key === 'Escape' && onClose()}>
      <h2 id="panel-title" tabindex="-1" ref=${headingRef}>${t('book.panel.title', { name: resource.name })}</h2>
      <p class="panel__day">${formatDate(start, lang, tz)} · ${site.name}</p>
      <p class="hint">${t('book.panel.escape')}</p>
      ${result && result.ok
        ? html`<div class="alert alert--success" tabindex="-1" ref=${resultRef}>
            <p>${result.text}</p>
            ${result.skipped && result.skipped.length > 0 && html`<p>${t('book.done.skipped', { n: result.skipped.length })}</p>`}
            <p><a href="/bookings">${t('book.done.link')}</a></p>
          </div>
          <button class="button button--secondary" type="button" onClick=${onClose}>${t('book.again')}</button>`
        : html`
          ${free
            ? html`<div class="panel__times">
                <${Field} name="book-start" label=${t('book.start')} value=${start} onInput=${(v) => {
                  setStart(v);
                  const ends = endFor(v);
                  if (!ends.includes(end)) {
                    setEnd(ends[0]);
                  }
                }}>
                  ${startOptions.map((s) => html`<option key=${s} value=${s}>${formatTime(s, lang, tz)}</option>`)}
                <//>
                <${Field} name="book-end" label=${t('book.end')} value=${end} onInput=${setEnd}>
                  ${endFor(start).map((e) => html`<option key=${e} value=${e}>${formatTime(e, lang, tz)}</option>`)}
                <//>
              </div>
              ${rules.slot_minutes > 0 && html`<p class="hint">${t('book.granularity', { minutes: rules.slot_minutes })}</p>`}`
            : html`<p class="panel__fixed">${formatTimeRange(start, end, lang, tz)}</p>`}
          <div class="field field--check">
            <input id="book-repeat" type="checkbox" checked=${repeat} onChange=${(e) => setRepeat(e.target.checked)} />
            <label for="book-repeat">${t('book.repeat')}</label>
          </div>
          ${repeat && html`
            <fieldset class="repeat">
              <legend>${t('book.repeat.legend')}</legend>
              <${Field} name="book-freq" label=${t('book.repeat.freq')} value=${freq} onInput=${setFreq}>
                <option value="weekly">${t('book.repeat.weekly')}</option>
                <option value="daily">${t('book.repeat.daily')}</option>
              <//>
              ${freq === 'weekly' && html`
                <fieldset class="weekdays">
                  <legend>${t('book.repeat.days')}</legend>
                  ${days.map((d) => html`
                    <span class="weekday" key=${d}>
                      <input id="book-day-${d}" type="checkbox" checked=${weekDays.includes(d)} onChange=${() => toggleDay(d)} />
                      <label for="book-day-${d}">${t(`book.day.${d}`)}</label>
                    </span>`)}
                </fieldset>`}
              <fieldset class="repeat__end">
                <legend>${t('book.repeat.end')}</legend>
                <span class="weekday">
                  <input id="book-end-count" type="radio" name="book-end-mode" checked=${endMode === 'count'} onChange=${() => setEndMode('count')} />
                  <label for="book-end-count">${t('book.repeat.count_mode')}</label>
                </span>
                <span class="weekday">
                  <input id="book-end-until" type="radio" name="book-end-mode" checked=${endMode === 'until'} onChange=${() => setEndMode('until')} />
                  <label for="book-end-until">${t('book.repeat.until_mode')}</label>
                </span>
                ${endMode === 'count'
                  ? html`<${Field} name="book-count" type="number" inputmode="numeric" label=${t('book.repeat.count')} value=${count} onInput=${setCount} />`
                  : html`<${Field} name="book-until" type="date" label=${t('book.repeat.until')} value=${until} onInput=${setUntil} />`}
              </fieldset>
            </fieldset>`}
          <h3 class="panel__quote-title">${t('book.quote.title')}</h3>
          <${QuoteView} quote=${shown} tz=${tz} repeat=${repeat} />
          ${someConflict && html`
            <div class="field field--check">
              <input id="book-skip" type="checkbox" checked=${skip} onChange=${(e) => setSkip(e.target.checked)} />
              <label for="book-skip">${t('book.series.skip')}</label>
            </div>`}
          ${result && result.error && html`<p class="alert alert--error" role="alert" tabindex="-1" ref=${resultRef}>${failureText(result.error, t)}</p>`}
          <div class="actions">
            ${taken
              ? html`<button class="button" type="button" disabled=${busy} onClick=${joinWaitlist}>${t('book.waitlist.join')}</button>`
              : html`<button class="button" type="button" disabled=${busy || !q || !q.bookable} onClick=${confirm}>${repeat ? t('book.confirm.series') : t('book.confirm')}</button>`}
            <button class="button button--secondary" type="button" onClick=${onClose}>${t('book.cancel_pick')}</button>
          </div>`}
    </section>`;
}

export default function Book() {
  const { t, api } = useApp();
  const [catalog, setCatalog] = useState(null);
  const [error, setError] = useState(null);
  const [siteId, setSiteId] = useState('');
  const [kind, setKind] = useState('');
  const [date, setDate] = useState('');
  const [avail, setAvail] = useState({ loading: true });
  const asked = useRef('');
  const [pick, setPick] = useState(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    loadCatalog(api).then((c) => {
      setCatalog(c);
      const first = c.sites.find((s) => kindsOf(c, s.id).length > 0) || c.sites[0];
      if (first) {
        setSiteId(first.id);
        setKind(kindsOf(c, first.id)[0] || '');
        setDate(dayKey(new Date(), first.timezone));
      }
    }, setError);
  }, []);

  const site = catalog && catalog.site(siteId);
  useEffect(() => {
    if (!site || !kind || !date) {
      return;
    }
    const key = `${site.id}|${kind}|${date}`;
    asked.current = key;
    // An answer to an earlier question (the day before the last click) is
    // dropped.
    const answer = (a) => asked.current === key && setAvail({ key, ...a });
    api.get(`/v1/sites/${encodeURIComponent(site.id)}/availability?from=${date}&to=${date}&kind=${kind}`)
      .then((l) => answer({ items: l.items }), (e) => answer({ error: e }));
  }, [siteId, kind, date, reload]);
  // The availability of another day, kind or site is no answer: the
  // timeline waits for this one's rather than show the last one's slots.
  const shownAvail = avail.key === `${siteId}|${kind}|${date}` ? avail : { loading: true };

  const chooseSite = (id) => {
    setSiteId(id);
    const s = catalog.site(id);
    setKind(kindsOf(catalog, id)[0] || '');
    setDate(dayKey(new Date(), s.timezone));
    setPick(null);
  };
  // Closing the panel gives the focus back to the slot it was opened from.
  const close = () => {
    const from = `${pick.resource.id}|${pick.slot.start}`;
    setPick(null);
    setTimeout(() => {
      const b = [...document.querySelectorAll('[data-slot]')].find((e) => e.dataset.slot === from);
      if (b) {
        b.focus();
      }
    }, 0);
  };
  const today = site ? dayKey(new Date(), site.timezone) : '';
  const changeDay = (d) => {
    if (/^\d{4}-\d{2}-\d{2}$/.test(d)) {
      setDate(d < today ? today : d);
      setPick(null);
    }
  };

  return html`
    <${Page} title=${t('book.title')} wide>
      ${error && html`<div class="alert alert--error" role="alert">${errorText(error, t)}</div>`}
      ${!catalog && !error && html`<p role="status">${t('loading')}</p>`}
      ${catalog && catalog.sites.length === 0 && html`<p class="empty">${t('book.nosite')}</p>`}
      ${catalog && html`<${Offers} catalog=${catalog} reload=${reload} onChange=${() => setReload((n) => n + 1)} />`}
      ${site && html`
        <div class="book-controls">
          ${catalog.sites.length > 1 && html`
            <${Field} name="book-site" label=${t('book.site')} value=${siteId} onInput=${chooseSite}>
              ${catalog.sites.map((s) => html`<option key=${s.id} value=${s.id}>${s.name}</option>`)}
            <//>`}
          ${kindsOf(catalog, siteId).length === 0
            ? html`<p>${t('book.none')}</p>`
            : html`<fieldset class="kinds">
                <legend>${t('book.kind')}</legend>
                ${kindsOf(catalog, siteId).map((k) => html`
                  <span class="kind" key=${k}>
                    <input id="book-kind-${k}" type="radio" name="book-kind" value=${k} checked=${kind === k}
                      onChange=${() => { setKind(k); setPick(null); }} />
                    <label for="book-kind-${k}">${t(`book.kind.${k}`)}</label>
                  </span>`)}
              </fieldset>`}
          <div class="day-picker">
            <button class="button button--secondary day-picker__prev" type="button" disabled=${date <= today} onClick=${() => changeDay(addDays(date, -1))}>${t('book.prev')}</button>
            <${Field} name="book-date" type="date" label=${t('book.date')} value=${date} onInput=${changeDay} />
            <button class="button button--secondary day-picker__next" type="button" onClick=${() => changeDay(addDays(date, 1))}>${t('book.next')}</button>
          </div>
        </div>
        ${kind && html`<${Timeline} site=${site} date=${date} avail=${shownAvail} catalog=${catalog}
          onPick=${(item, slot) => setPick({ resource: catalog.resources[item.resource_id], slot })} />`}
        ${pick && html`<${Panel} key=${`${pick.resource.id}-${pick.slot.start}`} site=${site} resource=${pick.resource} slot=${pick.slot} date=${date}
          onDone=${() => setReload((n) => n + 1)} onClose=${close} />`}`}
    <//>`;
}
