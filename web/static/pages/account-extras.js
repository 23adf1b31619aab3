// The account's other sections: where the member is signed in (and
// signing the other devices out), the calendar feed (its link, a QR code
// of it drawn by the API, how to add it to a calendar app), a copy of
// their data, and deleting the account.
import { html, useState, useEffect } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Field, FormError, errorText } from '../lib/forms.js';
import { ApiError } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { formatDate, formatTime } from '../lib/format.js';

// Sessions and exports have no site: their times are said in the zone
// of the member's first site, Paris when they have none. One read per
// member for the sections that need it.
const zones = new Map();

function useZone() {
  const { api, me } = useApp();
  const [zone, setZone] = useState('Europe/Paris');
  useEffect(() => {
    if (!zones.has(me.id)) {
      zones.set(me.id, api.get('/v1/sites?limit=1').then((l) => (l.items.length > 0 && l.items[0].timezone) || 'Europe/Paris',
        () => 'Europe/Paris'));
    }
    zones.get(me.id).then(setZone);
  }, []);
  return zone;
}

// deviceName: "Firefox sur Android" from a User-Agent, as far as it says;
// null when it says nothing known (the API's clients, curl).
export function deviceName(ua, t) {
  const s = String(ua || '');
  const browser = [
    [/Edg\//, 'Edge'], [/OPR\//, 'Opera'], [/Firefox\//, 'Firefox'], [/SamsungBrowser\//, 'Samsung Internet'],
    [/Chrom(e|ium)\//, 'Chrome'], [/Safari\//, 'Safari'],
  ].find(([re]) => re.test(s));
  const os = [
    [/Android/, 'Android'], [/iPhone|iPad|iPod/, 'iOS'], [/Windows/, 'Windows'], [/Mac OS X|Macintosh/, 'macOS'],
    [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux'],
  ].find(([re]) => re.test(s));
  if (!browser && !os) {
    return null;
  }
  if (browser && os) {
    return t('shell.sessions.device', { browser: browser[1], os: os[1] });
  }
  return (browser || os)[1];
}

export function Sessions() {
  const { t, lang, api, announce } = useApp();
  const zone = useZone();
  const [state, setState] = useState({ loading: true });
  const load = () => api.get('/v1/me/sessions?limit=100').then((data) => setState({ data }), (error) => setState({ error }));
  useEffect(() => {
    load();
  }, []);
  const end = async (id) => {
    try {
      await api.del(id ? `/v1/me/sessions/${encodeURIComponent(id)}` : '/v1/me/sessions');
      announce(t(id ? 'shell.sessions.ended' : 'shell.sessions.endedothers'));
      await load();
    } catch (error) {
      setState({ ...state, error });
    }
  };
  const items = state.data ? state.data.items : [];
  const others = items.filter((s) => !s.current);
  return html`
    <section aria-labelledby="sessions-title" class="card">
      <h2 id="sessions-title">${t('shell.sessions.title')}</h2>
      ${state.loading && html`<p>${t('loading')}</p>`}
      ${state.error && html`<p role="alert" class="alert alert--error">${errorText(state.error, t)}</p>`}
      <ul class="sessions">
        ${items.map((s) => html`
          <li key=${s.id} class="session">
            <p class="session__device">${deviceName(s.user_agent, t) || t('shell.sessions.unknown')}
              ${s.current && html` <span class="badge badge--ok">${t('shell.sessions.current')}</span>`}</p>
            <p class="session__when">${t('shell.sessions.lastused', {
              date: formatDate(s.last_used_at, lang, zone), time: formatTime(s.last_used_at, lang, zone),
            })}</p>
            ${!s.current && html`<button class="button button--secondary" type="button" onClick=${() => end(s.id)}
              aria-label=${t('shell.sessions.endone', { device: deviceName(s.user_agent, t) || t('shell.sessions.unknown') })}>${t('shell.sessions.end')}</button>`}
          </li>`)}
      </ul>
      ${others.length > 1 && html`<button class="button button--secondary" type="button" onClick=${() => end(null)}>${t('shell.sessions.endothers')}</button>`}
    </section>`;
}

// svgDataURL: the API's SVG as an image source (the policy allows data:
// images, not inline SVG markup from a string).
function svgDataURL(svg) {
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

export function CalendarFeed() {
  const { t, api, announce } = useApp();
  const [state, setState] = useState({});
  const create = async () => {
    setState({ busy: true });
    try {
      const tok = await api.post('/v1/me/calendar-token', undefined, { idempotent: true });
      const url = tok.url || (tok.path ? `${location.origin}${tok.path}` : null);
      if (!url) {
        // A replay: the link is shown once only.
        setState({ error: new ApiError(0) });
        return;
      }
      setState({ url, qr: tok.qr_svg });
      announce(t('shell.feed.created'));
    } catch (error) {
      setState({ error });
    }
  };
  const revoke = async () => {
    try {
      await api.del('/v1/me/calendar-token');
      setState({ revoked: true });
      announce(t('shell.feed.revoked'));
    } catch (error) {
      setState({ ...state, error });
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(state.url);
      announce(t('shell.feed.copied'));
    } catch {
      // Without the clipboard (an old browser, a refusal), the field is
      // selected for the member to copy.
      const input = document.getElementById('feed-url');
      input.focus();
      input.select();
      announce(t('shell.feed.selectcopy'));
    }
  };
  return html`
    <section aria-labelledby="feed-title" class="card">
      <h2 id="feed-title">${t('shell.feed.title')}</h2>
      <p>${t('shell.feed.intro')}</p>
      ${state.error && html`<${FormError} error=${state.error} />`}
      ${state.revoked && html`<p class="alert alert--success">${t('shell.feed.revoked')}</p>`}
      ${state.url ? html`
        <div class="field">
          <label for="feed-url">${t('shell.feed.link')}</label>
          <p class="hint" id="feed-url-hint">${t('shell.feed.secret')}</p>
          <input id="feed-url" class="feed__url" type="text" readonly value=${state.url} aria-describedby="feed-url-hint" />
        </div>
        <p><button class="button" type="button" onClick=${copy}>${t('shell.feed.copy')}</button></p>
        ${state.qr && html`<img class="feed__qr" src=${svgDataURL(state.qr)} width="200" height="200" alt=${t('shell.feed.qr')} />`}
        <h3>${t('shell.feed.howto')}</h3>
        <ul class="feed__howto">
          <li>${t('shell.feed.google')}</li>
          <li>${t('shell.feed.apple')}</li>
          <li>${t('shell.feed.outlook')}</li>
        </ul>
        <p><button class="button button--secondary" type="button" onClick=${revoke}>${t('shell.feed.revoke')}</button></p>`
      : html`
        <p class="hint">${t('shell.feed.replaces')}</p>
        <button class="button" type="button" onClick=${create} disabled=${state.busy}>${t('shell.feed.create')}</button>`}
    </section>`;
}

export function DataExport() {
  const { t, lang, api, announce } = useApp();
  const zone = useZone();
  const [state, setState] = useState({ loading: true });
  const check = () => api.get('/v1/me/export').then((exp) => setState({ exp }), (error) => {
    setState(error instanceof ApiError && error.status === 404 ? {} : { error });
  });
  useEffect(() => {
    check();
  }, []);
  const request = async () => {
    setState({ ...state, busy: true });
    try {
      const exp = await api.post('/v1/me/export', undefined, { idempotent: true });
      setState({ exp });
      announce(t('shell.export.requested'));
    } catch (error) {
      setState({ ...state, busy: false, error });
    }
  };
  const exp = state.exp;
  return html`
    <section aria-labelledby="export-title" class="card">
      <h2 id="export-title">${t('shell.export.title')}</h2>
      <p>${t('shell.export.intro')}</p>
      ${state.error && html`<p role="alert" class="alert alert--error">${errorText(state.error, t)}</p>`}
      ${exp && exp.status === 'pending' && html`
        <p class="export__status">${t('shell.export.pending')}</p>
        <button class="button button--secondary" type="button" onClick=${check}>${t('shell.export.check')}</button>`}
      ${exp && exp.status === 'ready' && html`
        <p class="export__status">${t('shell.export.ready', { date: formatDate(exp.expires_at, lang, zone) })}</p>
        <p><a class="button" href="/v1/me/export/download" download>${t('shell.export.download')}</a></p>`}
      ${exp && exp.status === 'failed' && html`<p class="export__status">${t('shell.export.failed')}</p>`}
      ${!state.loading && (!exp || exp.status !== 'pending') && html`
        <button class="button ${exp ? 'button--secondary' : ''}" type="button" onClick=${request} disabled=${state.busy}>${t('shell.export.request')}</button>`}
    </section>`;
}

export function DeleteAccount() {
  const { t, api, signedOut, announce } = useApp();
  const [password, setPassword] = useState('');
  const [state, setState] = useState({});
  const submit = async (e) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      await api.del('/v1/me', { body: { password } });
      announce(t('shell.delete.done'));
      signedOut();
      navigate('/sign-in');
    } catch (error) {
      setState({ error });
    }
  };
  const fields = state.error instanceof ApiError ? state.error.fields : {};
  return html`
    <section aria-labelledby="delete-title" class="card">
      <h2 id="delete-title">${t('shell.delete.title')}</h2>
      <p>${t('shell.delete.erased')}</p>
      <p>${t('shell.delete.kept')}</p>
      <form class="form" onSubmit=${submit} novalidate>
        <${FormError} error=${state.error} />
        <${Field} name="delete-password" type="password" label=${t('field.password')} value=${password} onInput=${setPassword}
          autocomplete="current-password" required hint=${t('shell.delete.hint')} error=${fields.password} />
        <button class="button button--danger" type="submit" disabled=${state.busy}>${t('shell.delete.submit')}</button>
      </form>
    </section>`;
}
