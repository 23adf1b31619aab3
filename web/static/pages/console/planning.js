// Planning: a site's resources × hours for a day, each booking with its
// member's name (user_name in the list), zones with their seats used;
// book on behalf of a member, move, cancel with a reason, block for
// maintenance, close the site. A table with headers on both axes, so a
// screen reader says the resource and the hour of every cell; a print
// stylesheet keeps the day's sheet only.
import { html, useState, useRef } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { ApiError } from '../../lib/api.js';
import { Field, FormError, useSubmit } from '../../lib/forms.js';
import { useLoad, Problem, useFocusWhen } from '../../lib/wallet.js';
import { formatDate, formatTimeRange, dayKey, dateFormat } from '../../lib/format.js';
import { useConsoleSite, ConsoleFrame, zonedInstant, wallTime } from '../../lib/console.js';
import { refusalText, failureText, priceText } from '../../lib/bookingtext.js';

async function loadDay(api, site, day) {
  const id = encodeURIComponent(site.id);
  const [resources, list, closures] = await Promise.all([
    api.get(`/v1/sites/${id}/resources?limit=200`),
    api.all(`/v1/reservations?site_id=${id}&from=${day}&to=${day}&status=confirmed,held`),
    api.get(`/v1/sites/${id}/closures?from=${day}&to=${day}`),
  ]);
  return { resources: resources.items.filter((r) => !r.retired), bookings: list, closures: closures.items };
}

// nextDay: the day after (or before, step -1) a "2026-12-09".
function nextDay(day, step) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + step)).toISOString().slice(0, 10);
}

// clock reads "9", "9h", "09:30" or "9 h 30" as "09:30"; null otherwise.
export function clock(text) {
  const m = String(text).trim().match(/^(\d{1,2})\s*(?:[:h]\s*(\d{2})?)?$/i);
  if (!m || Number(m[1]) > 23) {
    return null;
  }
  return `${m[1].padStart(2, '0')}:${m[2] || '00'}`;
}

function badTime(field, t) {
  return new ApiError(422, { detail: t('console.planning.badtime'), errors: [{ field, reason: t('console.planning.badtime') }] });
}

// hoursOf: the hours the grid shows, 8 h to 20 h, widened to the day's bookings.
function hoursOf(bookings, zone, day) {
  let first = 8;
  let last = 20;
  for (const b of bookings) {
    const s = dayKey(b.start, zone) < day ? 0 : Number(wallTime(b.start, zone).slice(0, 2));
    const e = dayKey(b.end, zone) > day ? 24 : Math.ceil(Number(wallTime(b.end, zone).replace(':', '.')));
    first = Math.min(first, s);
    last = Math.max(last, e);
  }
  const out = [];
  for (let h = first; h < last; h++) {
    out.push(h);
  }
  return out;
}

function who(b, t) {
  return b.kind === 'block' ? t('console.planning.block') : (b.user_name || t('console.planning.someone'));
}

// useDrag: a booking carried by the pointer (mouse, pen or finger) from
// one cell of the grid to another; drop(b, hours, resourceID) is told how
// many hours it moved and onto which resource's row.
function useDrag(drop) {
  const drag = useRef(null);
  const [over, setOver] = useState('');
  const cellAt = (e) => {
    const el = document.elementFromPoint(e.clientX, e.clientY);
    return el && el.closest('td[data-hour]');
  };
  const start = (e, b, hour) => {
    if (e.button !== 0) {
      return;
    }
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { b, hour, x: e.clientX, y: e.clientY, moved: false };
  };
  const move = (e) => {
    const d = drag.current;
    if (!d) {
      return;
    }
    if (Math.abs(e.clientX - d.x) + Math.abs(e.clientY - d.y) > 4) {
      d.moved = true;
    }
    const cell = d.moved && cellAt(e);
    setOver(cell ? `${cell.dataset.resource}/${cell.dataset.hour}` : '');
  };
  const end = (e) => {
    const d = drag.current;
    drag.current = null;
    setOver('');
    const cell = d && d.moved && cellAt(e);
    if (cell) {
      drop(d.b, Number(cell.dataset.hour) - d.hour, cell.dataset.resource);
    }
  };
  const cancel = () => {
    drag.current = null;
    setOver('');
  };
  return { over, start, move, end, cancel };
}

function Grid({ site, day, data, onDrop }) {
  const { t, lang } = useApp();
  const zone = site.timezone;
  const drag = useDrag(onDrop);
  const hours = hoursOf(data.bookings, zone, day);
  const hourLabel = (h) => (lang === 'en' ? `${String(h).padStart(2, '0')}:00` : `${h}\u00a0h`);
  // Each hour's bounds computed once, and each resource's bookings found
  // once: a filter of every booking in every cell was ten million steps
  // for 500 resources and 1,500 bookings (BENCHMARKS.md, "The planning
  // of 500 resources").
  const bounds = hours.map((h) => zonedInstant(day, `${String(h).padStart(2, '0')}:00`, zone).getTime());
  const byResource = new Map();
  for (const b of data.bookings) {
    const list = byResource.get(b.resource_id) || [];
    list.push({ b, from: new Date(b.start).getTime(), to: new Date(b.end).getTime() });
    byResource.set(b.resource_id, list);
  }
  return html`
    <div class="console-scroll" tabindex="0" role="region" aria-labelledby="planning-caption">
      <table class="console-grid">
        <caption id="planning-caption">${t('console.planning.caption', { date: formatDate(zonedInstant(day, '12:00', zone), lang, zone) })}</caption>
        <thead><tr><th scope="col">${t('console.planning.resource')}</th>${hours.map((h) => html`<th scope="col" key=${h}>${hourLabel(h)}</th>`)}</tr></thead>
        <tbody>
          ${data.resources.map((r) => html`
            <tr key=${r.id}>
              <th scope="row">${r.name}${r.kind === 'zone' ? html`<br /><span class="hint">${t('console.planning.seats', { n: r.capacity })}</span>` : ''}</th>
              ${hours.map((h, i) => {
                const from = bounds[i];
                const to = from + 3600000;
                const here = (byResource.get(r.id) || []).filter((x) => x.from < to && x.to > from).map((x) => x.b);
                const cell = { 'data-resource': r.id, 'data-hour': h };
                const over = drag.over === `${r.id}/${h}` ? 'consoled-over' : '';
                if (here.length === 0) {
                  return html`<td key=${h} ...${cell} class=${over}></td>`;
                }
                if (r.kind === 'zone') {
                  const used = here.some((b) => b.kind === 'block') ? r.capacity : here.reduce((n, b) => n + b.seats, 0);
                  return html`<td key=${h} class="console-busy">${t('console.planning.used', { used, n: r.capacity })}</td>`;
                }
                return html`<td key=${h} ...${cell} class="console-busy ${here.some((b) => b.kind === 'block') ? 'console-block' : ''} ${over}">${here.map((b, i) => html`${i > 0 ? ', ' : ''}<span
                  key=${b.id} class="consoled-chip" data-booking=${b.id} onPointerDown=${(e) => drag.start(e, b, h)} onPointerMove=${drag.move}
                  onPointerUp=${drag.end} onPointerCancel=${drag.cancel}>${who(b, t)}</span>`)}</td>`;
              })}
            </tr>`)}
        </tbody>
      </table>
    </div>
    <p class="hint no-print">${t('consoled.drag.hint')}</p>`;
}

// MoveConfirm: the move of b to [start, end) on resource said, quoted
// (what it would cost the member, or why it would be refused), and made
// only once the manager confirms it: the same path for a drag and for the
// Move form.
function MoveConfirm({ site, data, b, start, end, resource, done, close }) {
  const { t, lang, api, announce } = useApp();
  const zone = site.timezone;
  const body = { start: `${dayKey(start, zone)}T${wallTime(start, zone)}`, end: `${dayKey(end, zone)}T${wallTime(end, zone)}` };
  const elsewhere = resource && resource !== b.resource_id;
  if (elsewhere) {
    body.resource_id = resource;
  }
  const q = useLoad(() => api.post(`/v1/reservations/${encodeURIComponent(b.id)}/quote`, body), [b.id, body.start, body.end, body.resource_id]);
  const s = useSubmit(async () => {
    await api.patch(`/v1/reservations/${encodeURIComponent(b.id)}`, body);
    announce(t('console.planning.moved'));
    done();
  });
  const ref = useFocusWhen(true);
  const name = (id) => (data.resources.find((r) => r.id === id) || {}).name || '';
  const quote = q.data;
  const from = formatTimeRange(b.start, b.end, lang, zone);
  const to = formatTimeRange(start, end, lang, zone);
  return html`
    <div ref=${ref} tabindex="-1" class="consoled-confirm">
      <p>${elsewhere ? t('consoled.drag.what.elsewhere', { from, to, resource: name(b.resource_id), target: name(resource) })
        : t('consoled.drag.what', { from, to, resource: name(b.resource_id) })}</p>
      ${q.loading && html`<p role="status">${t('book.quote.loading')}</p>`}
      ${q.error && html`<p class="alert alert--error">${failureText(q.error, t)}</p>`}
      ${quote && quote.bookable && html`<p class="quote quote--ok">${priceText(quote.price, t, lang)}</p>`}
      ${quote && !quote.bookable && html`<p class="alert alert--error">${refusalText(quote.refusal, t)}</p>`}
      <${FormError} error=${s.error} />
      <p class="console-actions">
        ${quote && quote.bookable && html`<button class="button" type="button" disabled=${s.busy} onClick=${s.onSubmit}>${t('consoled.drag.confirm')}</button>`}
        <button class="button button--secondary" type="button" onClick=${close}>${t('consoled.drag.keep')}</button>
      </p>
    </div>`;
}

// DragMove: a booking dropped on another cell of the grid. The keyboard's
// way is the list's Move form, which asks MoveConfirm the same.
function DragMove({ site, data, move, done, close }) {
  const { t } = useApp();
  const { b } = move;
  const ms = move.hours * 3600000;
  const start = new Date(new Date(b.start).getTime() + ms);
  const end = new Date(new Date(b.end).getTime() + ms);
  return html`
    <section class="consoleb-inline consoled-move no-print" aria-labelledby="drag-move-title">
      <h2 id="drag-move-title">${t('consoled.drag.title', { who: who(b, t) })}</h2>
      <${MoveConfirm} site=${site} data=${data} b=${b} start=${start} end=${end} resource=${move.resource} done=${done} close=${close} />
    </section>`;
}

function Move({ site, data, b, done, close }) {
  const { t, lang } = useApp();
  const zone = site.timezone;
  const [start, setStart] = useState(wallTime(b.start, zone));
  const [end, setEnd] = useState(wallTime(b.end, zone));
  const [resource, setResource] = useState(b.resource_id);
  const [asked, setAsked] = useState(null); // {start, end, resource, n}
  const s = useSubmit(async () => {
    const st = clock(start);
    const en = clock(end);
    if (!st) {
      throw badTime('start', t);
    }
    if (!en) {
      throw badTime('end', t);
    }
    const day = dayKey(b.start, zone);
    setAsked({ start: zonedInstant(day, st, zone), end: zonedInstant(day, en, zone), resource, n: (asked ? asked.n : 0) + 1 });
  });
  // The form replaces nothing: the focus goes into it from its button.
  const ref = useFocusWhen(true);
  return html`
    <form ref=${ref} class="form console-inline" onSubmit=${s.onSubmit} novalidate aria-label=${t('console.planning.move.named', { who: who(b, t), when: formatTimeRange(b.start, b.end, lang, site.timezone) })}>
      <${FormError} error=${s.error} />
      <${Field} name="move-start-${b.id}" label=${t('console.planning.newstart')} hint=${t('console.planning.time.hint')} value=${start} onInput=${setStart} required error=${s.fields.start} />
      <${Field} name="move-end-${b.id}" label=${t('console.planning.newend')} value=${end} onInput=${setEnd} required error=${s.fields.end} />
      <${Field} name="move-resource-${b.id}" label=${t('console.planning.newresource')} value=${resource} onInput=${setResource} error=${s.fields.resource_id}>
        ${data.resources.filter((r) => !r.retired).map((r) => html`<option key=${r.id} value=${r.id}>${r.name}</option>`)}
      <//>
      <button class="button" type="submit">${t('console.planning.move.submit')}</button>
    </form>
    ${asked && html`<${MoveConfirm} key=${asked.n} site=${site} data=${data} b=${b} start=${asked.start} end=${asked.end} resource=${asked.resource} done=${done} close=${close} />`}`;
}

function Cancel({ site, b, done }) {
  const { t, lang, api, announce } = useApp();
  const [reason, setReason] = useState('');
  const s = useSubmit(async () => {
    await api.del(`/v1/reservations/${encodeURIComponent(b.id)}?reason=${encodeURIComponent(reason)}`);
    announce(t('console.planning.cancelled'));
    done();
  });
  const ref = useFocusWhen(true);
  return html`
    <form ref=${ref} class="form console-inline" onSubmit=${s.onSubmit} novalidate aria-label=${t('console.planning.cancel.named', { who: who(b, t), when: formatTimeRange(b.start, b.end, lang, site.timezone) })}>
      <${FormError} error=${s.error} />
      <${Field} name="cancel-reason-${b.id}" label=${t('console.planning.reason')} hint=${t('console.planning.reason.hint')} value=${reason} onInput=${setReason} error=${s.fields.reason} />
      <button class="button" type="submit">${t('console.planning.cancel.submit')}</button>
    </form>`;
}

function Bookings({ site, data, reload }) {
  const { t, lang } = useApp();
  const [open, setOpen] = useState(null); // {id, what: 'move'|'cancel'}
  const names = {};
  for (const r of data.resources) {
    names[r.id] = r.name;
  }
  const done = () => {
    setOpen(null);
    reload();
  };
  return html`
    <section aria-labelledby="planning-list">
      <h2 id="planning-list">${t('console.planning.list')}</h2>
      ${data.bookings.length === 0 && html`<p class="empty">${t('console.today.nobooking')}</p>`}
      ${data.bookings.length > 0 && html`
        <ul class="console-list console-bookings">
          ${data.bookings.map((b) => html`
            <li key=${b.id}>
              <p><strong>${formatTimeRange(b.start, b.end, lang, site.timezone)}</strong> · ${names[b.resource_id] || ''} · ${who(b, t)}${b.seats > 1 ? ` · ${t('console.planning.seats', { n: b.seats })}` : ''}${b.status === 'held' ? ` · ${t('home.held')}` : ''}</p>
              <p class="console-actions no-print">
                <button class="button button--secondary" type="button" aria-expanded=${open && open.id === b.id && open.what === 'move' ? 'true' : 'false'}
                  aria-label=${t('console.planning.move.named', { who: who(b, t), when: formatTimeRange(b.start, b.end, lang, site.timezone) })}
                  onClick=${() => setOpen(open && open.id === b.id && open.what === 'move' ? null : { id: b.id, what: 'move' })}>${t('console.planning.move')}</button>
                <button class="button button--secondary" type="button" aria-expanded=${open && open.id === b.id && open.what === 'cancel' ? 'true' : 'false'}
                  aria-label=${t('console.planning.cancel.named', { who: who(b, t), when: formatTimeRange(b.start, b.end, lang, site.timezone) })}
                  onClick=${() => setOpen(open && open.id === b.id && open.what === 'cancel' ? null : { id: b.id, what: 'cancel' })}>${t('console.planning.cancel')}</button>
              </p>
              ${open && open.id === b.id && open.what === 'move' && html`<${Move} site=${site} data=${data} b=${b} done=${done} close=${() => setOpen(null)} />`}
              ${open && open.id === b.id && open.what === 'cancel' && html`<${Cancel} site=${site} b=${b} done=${done} />`}
            </li>`)}
        </ul>`}
    </section>`;
}

function Book({ site, day, data, reload }) {
  const { t, api, announce } = useApp();
  const [q, setQ] = useState('');
  const [found, setFound] = useState(null);
  const [person, setPerson] = useState('');
  const [resource, setResource] = useState(data.resources[0] ? data.resources[0].id : '');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [seats, setSeats] = useState('1');
  const search = useSubmit(async () => {
    const list = await api.get(`/v1/sites/${encodeURIComponent(site.id)}/people?q=${encodeURIComponent(q)}&limit=20`);
    setFound(list.items);
    setPerson(list.items.length === 1 ? list.items[0].id : '');
    announce(t('console.people.found', { n: list.items.length }));
  });
  const res = data.resources.find((r) => r.id === resource);
  const book = useSubmit(async () => {
    if (!person) {
      throw new ApiError(422, { detail: t('console.book.noperson'), errors: [{ field: 'user_id', reason: t('console.book.noperson') }] });
    }
    const st = clock(start);
    const en = clock(end);
    if (!st) {
      throw badTime('start', t);
    }
    if (!en) {
      throw badTime('end', t);
    }
    const body = { resource_id: resource, user_id: person, start: `${day}T${st}`, end: `${day}T${en}` };
    if (res && res.kind === 'zone') {
      body.seats = Number(seats) || 1;
    }
    await api.post('/v1/reservations', body, { idempotent: true });
    announce(t('console.book.done'));
    setStart('');
    setEnd('');
    reload();
  });
  return html`
    <section aria-labelledby="planning-book" class="no-print">
      <h2 id="planning-book">${t('console.book.title')}</h2>
      <form class="form console-inline" role="search" onSubmit=${search.onSubmit} novalidate>
        <${FormError} error=${search.error} />
        <${Field} name="book-q" type="search" label=${t('console.book.q')} value=${q} onInput=${setQ} />
        <button class="button button--secondary" type="submit">${t('console.people.submit')}</button>
      </form>
      <form class="form" onSubmit=${book.onSubmit} novalidate>
        <${FormError} error=${book.error} />
        ${found && found.length === 0 && html`<p>${t('console.people.none')}</p>`}
        ${found && found.length > 0 && html`
          <fieldset class="console-fieldset">
            <legend>${t('console.book.who')}</legend>
            ${found.map((p) => html`
              <div class="console-radio" key=${p.id}>
                <input type="radio" name="book-person" id="book-person-${p.id}" value=${p.id} checked=${person === p.id} onChange=${() => setPerson(p.id)} />
                <label for="book-person-${p.id}">${p.name}${p.email ? ` (${p.email})` : ''}</label>
              </div>`)}
          </fieldset>`}
        <${Field} name="book-resource" label=${t('console.planning.resource')} value=${resource} onInput=${setResource} error=${book.fields.resource_id}>
          ${data.resources.map((r) => html`<option key=${r.id} value=${r.id}>${r.name}</option>`)}
        <//>
        <${Field} name="book-start" label=${t('console.book.start')} hint=${t('console.planning.time.hint')} value=${start} onInput=${setStart} required error=${book.fields.start} />
        <${Field} name="book-end" label=${t('console.book.end')} value=${end} onInput=${setEnd} required error=${book.fields.end} />
        ${res && res.kind === 'zone' && html`<${Field} name="book-seats" type="number" inputmode="numeric" label=${t('console.book.seats')} value=${seats} onInput=${setSeats} error=${book.fields.seats} />`}
        <button class="button" type="submit">${t('console.book.submit')}</button>
      </form>
    </section>`;
}

function Block({ site, day, data, reload }) {
  const { t, api, announce } = useApp();
  const [resource, setResource] = useState(data.resources[0] ? data.resources[0].id : '');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [note, setNote] = useState('');
  const s = useSubmit(async () => {
    const st = clock(start);
    const en = clock(end);
    if (!st) {
      throw badTime('start', t);
    }
    if (!en) {
      throw badTime('end', t);
    }
    await api.post('/v1/reservations', { kind: 'block', resource_id: resource, start: `${day}T${st}`, end: `${day}T${en}`, note }, { idempotent: true });
    announce(t('console.blockit.done'));
    reload();
  });
  return html`
    <section aria-labelledby="planning-blockit" class="no-print">
      <h2 id="planning-blockit">${t('console.blockit.title')}</h2>
      <form class="form" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="block-resource" label=${t('console.planning.resource')} value=${resource} onInput=${setResource} error=${s.fields.resource_id}>
          ${data.resources.map((r) => html`<option key=${r.id} value=${r.id}>${r.name}</option>`)}
        <//>
        <${Field} name="block-start" label=${t('console.book.start')} hint=${t('console.planning.time.hint')} value=${start} onInput=${setStart} required error=${s.fields.start} />
        <${Field} name="block-end" label=${t('console.book.end')} value=${end} onInput=${setEnd} required error=${s.fields.end} />
        <${Field} name="block-note" label=${t('console.blockit.note')} value=${note} onInput=${setNote} error=${s.fields.note} />
        <button class="button" type="submit">${t('console.blockit.submit')}</button>
      </form>
    </section>`;
}

function Closures({ site, day, data, reload }) {
  const { t, lang, api, announce } = useApp();
  const zone = site.timezone;
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [reason, setReason] = useState('');
  const s = useSubmit(async () => {
    const st = clock(start);
    const en = clock(end);
    if (!st) {
      throw badTime('starts_at', t);
    }
    if (!en) {
      throw badTime('ends_at', t);
    }
    await api.post(`/v1/sites/${encodeURIComponent(site.id)}/closures`, {
      starts_at: zonedInstant(day, st, zone).toISOString(), ends_at: zonedInstant(day, en, zone).toISOString(), reason,
    }, { idempotent: true });
    announce(t('console.closure.done'));
    reload();
  });
  return html`
    <section aria-labelledby="planning-closures">
      <h2 id="planning-closures">${t('console.closure.title')}</h2>
      ${data.closures.length === 0 ? html`<p>${t('console.closure.none')}</p>` : html`
        <ul class="console-list">${data.closures.map((c) => html`
          <li key=${c.id}>${formatTimeRange(c.starts_at, c.ends_at, lang, zone)}${c.reason ? ` · ${c.reason}` : ''}</li>`)}</ul>`}
      <form class="form no-print" onSubmit=${s.onSubmit} novalidate>
        <${FormError} error=${s.error} />
        <${Field} name="closure-start" label=${t('console.closure.start')} hint=${t('console.planning.time.hint')} value=${start} onInput=${setStart} required error=${s.fields.starts_at} />
        <${Field} name="closure-end" label=${t('console.closure.end')} value=${end} onInput=${setEnd} required error=${s.fields.ends_at} />
        <${Field} name="closure-reason" label=${t('console.closure.reason')} value=${reason} onInput=${setReason} error=${s.fields.reason} />
        <button class="button" type="submit">${t('console.closure.submit')}</button>
      </form>
    </section>`;
}

// Week: the seven days from day, resources × days, each booking's hours
// and who; a day's heading opens that day.
function Week({ site, day, resources, openDay }) {
  const { t, lang, api } = useApp();
  const zone = site.timezone;
  const days = [0, 1, 2, 3, 4, 5, 6].map((i) => nextDay(day, i));
  // Day by day, the seven at once: a busy week of a large site is tens of
  // pages of 200, which one cursor would read one after the other. A
  // booking across midnight comes with both its days, and counts once.
  const s = useLoad(async () => {
    const lists = await Promise.all(days.map((d) => api.all(`/v1/reservations?site_id=${encodeURIComponent(site.id)}&from=${d}&to=${d}&status=confirmed,held`)));
    const seen = new Set();
    return lists.flat().filter((b) => !seen.has(b.id) && seen.add(b.id));
  }, [site.id, day]);
  const short = (d) => dateFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { weekday: 'short', day: 'numeric', month: 'short', timeZone: zone })
    .format(zonedInstant(d, '12:00', zone));
  // The week's bookings by resource and day, sorted once, not filtered
  // in each of the 3,500 cells of 500 resources.
  const cells = new Map();
  for (const b of s.data || []) {
    const key = `${b.resource_id} ${dayKey(b.start, zone)}`;
    const list = cells.get(key) || [];
    list.push(b);
    cells.set(key, list);
  }
  return html`
    ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
    <${Problem} error=${s.error} />
    ${s.data && html`
      <div class="console-scroll" tabindex="0" role="region" aria-labelledby="week-caption">
        <table class="console-grid console-week">
          <caption id="week-caption">${t('console.week.caption', { date: formatDate(zonedInstant(day, '12:00', zone), lang, zone) })}</caption>
          <thead><tr><th scope="col">${t('console.planning.resource')}</th>${days.map((d) => html`
            <th scope="col" key=${d}><button class="console-link" type="button" onClick=${() => openDay(d)}>${short(d)}</button></th>`)}</tr></thead>
          <tbody>
            ${resources.map((r) => html`
              <tr key=${r.id}>
                <th scope="row">${r.name}</th>
                ${days.map((d) => {
                  const here = cells.get(`${r.id} ${d}`) || [];
                  return html`<td key=${d} class=${here.length ? 'console-busy' : ''}>${here.map((b) => html`
                    <p key=${b.id} class="console-cell">${formatTimeRange(b.start, b.end, lang, zone)} ${who(b, t)}</p>`)}</td>`;
                })}
              </tr>`)}
          </tbody>
        </table>
      </div>`}`;
}

function DayOf({ site }) {
  const { t, lang, api } = useApp();
  const [day, setDay] = useState(() => dayKey(new Date(), site.timezone));
  const [week, setWeek] = useState(false);
  const s = useLoad(() => loadDay(api, site, day), [site.id, day]);
  const [dragged, setDragged] = useState(null); // {b, hours, resource, n}
  const zone = site.timezone;
  const title = formatDate(zonedInstant(day, '12:00', zone), lang, zone);
  return html`
    <div class="console-daybar no-print">
      <button class="button button--secondary" type="button" onClick=${() => setDay(nextDay(day, -1))}>${t('console.planning.prev')}</button>
      <p class="console-day" aria-live="polite">${title}</p>
      <button class="button button--secondary" type="button" onClick=${() => setDay(nextDay(day, 1))}>${t('console.planning.next')}</button>
      <button class="button button--secondary" type="button" aria-pressed=${week ? 'true' : 'false'} onClick=${() => setWeek(!week)}>${t('console.week.show')}</button>
      <button class="button button--secondary" type="button" onClick=${() => window.print()}>${t('console.planning.print')}</button>
    </div>
    ${week && s.data && html`<${Week} site=${site} day=${day} resources=${s.data.resources} openDay=${(d) => {
      setWeek(false);
      setDay(d);
    }} />`}
    ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
    <${Problem} error=${s.error} />
    ${s.data && html`
      <${Grid} site=${site} day=${day} data=${s.data} onDrop=${(b, hours, resource) => (hours !== 0 || resource !== b.resource_id) && setDragged({ b, hours, resource, n: (dragged ? dragged.n : 0) + 1 })} />
      ${dragged && html`<${DragMove} key=${dragged.n} site=${site} data=${s.data} move=${dragged} close=${() => setDragged(null)} done=${() => {
        setDragged(null);
        s.reload();
      }} />`}
      <${Bookings} site=${site} data=${s.data} reload=${s.reload} />
      <div class="console-columns">
        <${Book} key=${`book-${day}`} site=${site} day=${day} data=${s.data} reload=${s.reload} />
        <div>
          <${Block} key=${`block-${day}`} site=${site} day=${day} data=${s.data} reload=${s.reload} />
          <${Closures} key=${`closures-${day}`} site=${site} day=${day} data=${s.data} reload=${s.reload} />
        </div>
      </div>`}`;
}

export default function Planning() {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('console.planning.title')} current="/console/planning" cs=${cs}>
      ${cs.site && html`<${DayOf} key=${cs.site.id} site=${cs.site} />`}
    <//>`;
}
