// The home's doors and machines: a big button for each door the member
// may open now, and Switch on / Switch off for a machine they booked and
// may use now, with the time left before the power goes off. The API
// decides (GET /v1/me/doors asks the gate without trying the door); the
// page says its answer in words.
import { html, useState, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { errorText } from '../lib/forms.js';
import { ApiError } from '../lib/api.js';

// reasonText says why a door or a machine said no, in the member's words:
// the sentence of the catalogue for the problem's code (shell.reason.*),
// else the API's detail (already in the member's language).
export function reasonText(code, t) {
  const key = `shell.reason.${code}`;
  const s = t(key);
  return s === key ? '' : s;
}

export function problemText(err, t) {
  if (err instanceof ApiError && err.code) {
    const s = reasonText(err.code, t);
    if (s) {
      return s;
    }
  }
  return errorText(err, t);
}

// minutesLeft: whole minutes from now until end, never below 0 (the
// countdown says "less than a minute" at 0).
export function minutesLeft(end, now = new Date()) {
  return Math.max(0, Math.floor((new Date(end) - new Date(now)) / 60000));
}

// durationText: "1 h 05 min", "12 min", in French; "1 h 05 min" reads in
// English too.
export function durationText(minutes, t) {
  if (minutes < 1) {
    return t('shell.machine.lessthanminute');
  }
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) {
    return `${m}\u00a0min`;
  }
  return `${h}\u00a0h\u00a0${String(m).padStart(2, '0')}\u00a0min`;
}

function Door({ door }) {
  const { t, api, announce } = useApp();
  const [state, setState] = useState({});
  const open = async () => {
    if (state.busy) {
      return;
    }
    setState({ busy: true });
    try {
      await api.post(`/v1/doors/${encodeURIComponent(door.id)}/unlock`, undefined, { idempotent: true });
      const text = t('shell.door.opened', { door: door.name });
      setState({ ok: text });
      announce(text);
    } catch (err) {
      setState({ error: `${t('shell.door.refused', { door: door.name })} ${problemText(err, t)}` });
    }
  };
  return html`
    <li class="door">
      <button class="door__button" type="button" onClick=${open} aria-busy=${state.busy ? 'true' : 'false'}>
        <span class="door__verb">${state.busy ? t('shell.door.opening') : t('shell.door.open')}</span>
        <span class="door__name">${door.name}</span>
        <span class="door__site">${door.site_name}</span>
      </button>
      ${state.ok && html`<p class="alert alert--success">${state.ok}</p>`}
      ${state.error && html`<p class="alert alert--error" role="alert">${state.error}</p>`}
    </li>`;
}

export function Doors() {
  const { t, api } = useApp();
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    api.get('/v1/me/doors').then((data) => setState({ data }), (error) => setState({ error }));
  }, []);
  // Offline, no door can be opened: the home says it is offline.
  if (state.loading || (state.error && state.error.status === 0)) {
    return null;
  }
  if (state.error) {
    return html`<section aria-labelledby="doors-title"><h2 id="doors-title">${t('shell.doors.title')}</h2>
      <p class="alert alert--error" role="alert">${errorText(state.error, t)}</p></section>`;
  }
  const items = state.data.items;
  if (items.length === 0) {
    return null;
  }
  const openable = items.filter((d) => d.may_open);
  const shut = items.filter((d) => !d.may_open);
  return html`
    <section aria-labelledby="doors-title">
      <h2 id="doors-title">${t('shell.doors.title')}</h2>
      ${openable.length > 0 && html`<ul class="doors">${openable.map((d) => html`<${Door} key=${d.id} door=${d} />`)}</ul>`}
      ${shut.length > 0 && html`
        <ul class="doors-shut">
          ${shut.map((d) => html`
            <li key=${d.id}>${t('shell.door.shutline', { door: d.name, site: d.site_name, reason: reasonText(d.reason, t) || t('shell.door.shut') })}</li>`)}
        </ul>`}
    </section>`;
}

// useMinute re-renders each minute, for the countdowns.
function useMinute() {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const id = setInterval(() => setNow(new Date()), 60000);
    return () => clearInterval(id);
  }, []);
  return now;
}

function Machine({ booking, resource }) {
  const { t, api, me, announce } = useApp();
  const now = useMinute();
  const [state, setState] = useState({ loading: true });
  const path = `/v1/machines/${encodeURIComponent(resource.id)}/session`;
  useEffect(() => {
    api.get(path).then((session) => setState({ session }), (error) => {
      setState(error instanceof ApiError && error.status === 404 ? {} : { error });
    });
  }, []);
  const mine = state.session && state.session.user_id === me.id;
  const switchOn = async () => {
    setState({ ...state, busy: true, error: null });
    try {
      const session = await api.post(path, undefined, { idempotent: true });
      setState({ session });
      announce(t('shell.machine.switchedon', { machine: resource.name, left: durationText(minutesLeft(session.ends_at), t) }));
    } catch (error) {
      setState({ ...state, busy: false, error });
    }
  };
  const switchOff = async () => {
    setState({ ...state, busy: true, error: null });
    try {
      await api.del(path);
      setState({});
      announce(t('shell.machine.switchedoff', { machine: resource.name }));
    } catch (error) {
      setState({ ...state, busy: false, error });
    }
  };
  return html`
    <li class="machine card">
      <h3>${resource.name}</h3>
      ${state.loading && html`<p>${t('loading')}</p>`}
      ${!state.loading && mine && html`
        <p class="badge badge--ok">${t('shell.machine.on')}</p>
        <p role="timer" class="machine__left">${t('shell.machine.left', { left: durationText(minutesLeft(state.session.ends_at, now), t) })}</p>
        <button class="button" type="button" onClick=${switchOff} disabled=${state.busy}>${t('shell.machine.switchoff', { machine: resource.name })}</button>`}
      ${!state.loading && state.session && !mine && html`<p>${t('shell.reason.machine_in_use')}</p>`}
      ${!state.loading && !state.session && html`
        <p>${t('shell.machine.off')}</p>
        <button class="button" type="button" onClick=${switchOn} disabled=${state.busy}>${t('shell.machine.switchon', { machine: resource.name })}</button>`}
      ${state.error && html`<p class="alert alert--error" role="alert">${problemText(state.error, t)}</p>`}
    </li>`;
}

// Machines: the member's bookings of a machine under way now.
export function Machines({ bookings, resources }) {
  const { t } = useApp();
  const now = useMinute();
  const current = bookings.filter((r) => {
    const res = resources[r.resource_id];
    return res && res.kind === 'machine' && r.status === 'confirmed' && new Date(r.start) <= now && now < new Date(r.end);
  });
  if (current.length === 0) {
    return null;
  }
  return html`
    <section aria-labelledby="machines-title">
      <h2 id="machines-title">${t('shell.machines.title')}</h2>
      <ul class="machines">${current.map((r) => html`<${Machine} key=${r.id} booking=${r} resource=${resources[r.resource_id]} />`)}</ul>
    </section>`;
}
