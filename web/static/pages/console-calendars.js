// Calendars and webhooks in the console: secret feed URLs of the site's
// and each resource's calendar (to paste into a calendar app), and the
// site's webhooks: adding one (its secret shown once), pausing it,
// rotating its secret, deleting it, and its delivery log with a way to
// send a delivery again.
import { html, useState } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { ConsoleFrame, useConsoleSite } from '../lib/console.js';
import { FormError } from '../lib/forms.js';
import { useLoad, useFocusWhen } from '../lib/wallet.js';
import { formatDate, formatTime } from '../lib/format.js';
import { CopyField } from '../lib/console-c.js';

// Feed is one calendar's secret URL: made (or made again, which ends the
// previous one) on request, since the API shows it only once.
function Feed({ id, name, path }) {
  const { t, api, announce } = useApp();
  const [state, setState] = useState({ busy: false });
  const make = async () => {
    setState({ busy: true });
    try {
      const tok = await api.post(path, undefined, { idempotent: true });
      if (!tok.url && !tok.path) {
        // A replayed answer never shows the link again: make a new one.
        setState({ busy: false });
        return;
      }
      setState({ busy: false, url: tok.url || `${location.origin}${tok.path}` });
      announce(t('consolec.feed.made', { name }));
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return html`
    <li class="consoleb-row">
      <h3 id="feed-${id}-name">${name}</h3>
      <${FormError} error=${state.error} />
      ${state.url && html`<${CopyField} id="feed-${id}" label=${t('consolec.feed.url', { name })} value=${state.url} hint=${t('consolec.feed.once')} />`}
      <button class="button button--secondary" type="button" onClick=${make} aria-describedby="feed-${id}-name">
        ${state.busy ? t('consoleb.busy') : (state.url ? t('consolec.feed.again') : t('consolec.feed.make'))}</button>
    </li>`;
}

function Feeds({ site }) {
  const { t, api } = useApp();
  const s = useLoad(() => api.get(`/v1/sites/${site.id}/resources?limit=200`), [site.id]);
  return html`
    <section class="card consoleb-section" aria-labelledby="feeds-title">
      <h2 id="feeds-title">${t('consolec.feeds')}</h2>
      <p>${t('consolec.feeds.intro')}</p>
      <ol class="consolec-steps">
        <li>${t('consolec.feeds.step1')}</li>
        <li>${t('consolec.feeds.step2')}</li>
        <li>${t('consolec.feeds.step3')}</li>
      </ol>
      <ul class="consoleb-rows">
        <${Feed} id="site" name=${t('consolec.feed.site', { name: site.name })} path="/v1/sites/${site.id}/calendar-token" />
        ${s.data && s.data.items.map((r) => html`<${Feed} key=${r.id} id=${r.id} name=${r.name} path="/v1/resources/${r.id}/calendar-token" />`)}
      </ul>
      ${s.error && html`<${FormError} error=${s.error} />`}
    </section>`;
}

// The event families a webhook may follow ("domain.*"), or all ("*").
const families = ['reservation', 'payment', 'membership', 'invoice', 'access', 'device', 'campaign', 'waitlist'];

function NewWebhook({ site, onDone }) {
  const { t, api, announce } = useApp();
  const [v, setV] = useState({ url: '', description: '', events: [] });
  const [state, setState] = useState({ busy: false, error: null });
  const toggle = (f) => setV({ ...v, events: v.events.includes(f) ? v.events.filter((x) => x !== f) : [...v.events, f] });
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    setState({ busy: true, error: null });
    try {
      const w = await api.post(`/v1/sites/${site.id}/webhooks`, {
        url: v.url.trim(), description: v.description.trim(), events: v.events.map((f) => (f === '*' ? '*' : `${f}.*`)),
      }, { idempotent: true });
      announce(t('consolec.webhook.created'));
      setV({ url: '', description: '', events: [] });
      setState({ busy: false, error: null });
      onDone(w);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const f = (state.error && state.error.fields) || {};
  return html`
    <form class="form consoleb-inline" onSubmit=${submit} novalidate aria-labelledby="new-webhook-title">
      <h3 id="new-webhook-title">${t('consolec.webhook.new')}</h3>
      <${FormError} error=${state.error} />
      <div class="field ${f.url ? 'field--invalid' : ''}">
        <label for="webhook-url">${t('consolec.webhook.url')}</label>
        <p class="hint" id="webhook-url-hint">${t('consolec.webhook.url.hint')}</p>
        <input id="webhook-url" type="url" value=${v.url} onInput=${(e) => setV({ ...v, url: e.target.value })}
          aria-invalid=${f.url ? 'true' : undefined} aria-describedby=${f.url ? 'webhook-url-hint webhook-url-error' : 'webhook-url-hint'} />
        ${f.url && html`<p class="field-error" id="webhook-url-error">${f.url}</p>`}
      </div>
      <fieldset class="consoleb-kinds" aria-describedby=${f.events ? 'webhook-events-error' : undefined}>
        <legend>${t('consolec.webhook.events')}</legend>
        ${['*', ...families].map((x) => html`<div class="field field--check" key=${x}>
          <input id="webhook-ev-${x === '*' ? 'all' : x}" type="checkbox" checked=${v.events.includes(x)} onChange=${() => toggle(x)} />
          <label for="webhook-ev-${x === '*' ? 'all' : x}">${t(`consolec.family.${x === '*' ? 'all' : x}`)}</label></div>`)}
        ${f.events && html`<p class="field-error" id="webhook-events-error">${f.events}</p>`}
      </fieldset>
      <div class="field ${f.description ? 'field--invalid' : ''}">
        <label for="webhook-description">${t('consolec.webhook.description')}</label>
        <input id="webhook-description" value=${v.description} onInput=${(e) => setV({ ...v, description: e.target.value })}
          aria-invalid=${f.description ? 'true' : undefined} aria-describedby=${f.description ? 'webhook-description-error' : undefined} />
        ${f.description && html`<p class="field-error" id="webhook-description-error">${f.description}</p>`}
      </div>
      <button class="button" type="submit">${state.busy ? t('consoleb.busy') : t('consolec.webhook.create')}</button>
    </form>`;
}

function eventsWords(events, t) {
  return events.map((e) => (e === '*' ? t('consolec.family.all') : (e.endsWith('.*') && families.includes(e.slice(0, -2)) ? t(`consolec.family.${e.slice(0, -2)}`) : e))).join(', ');
}

function Deliveries({ hook, site }) {
  const { t, api, lang, announce } = useApp();
  const s = useLoad(() => api.get(`/v1/webhooks/${hook.id}/deliveries?limit=50`), [hook.id]);
  const [error, setError] = useState(null);
  const again = async (d) => {
    setError(null);
    try {
      await api.post(`/v1/webhooks/${hook.id}/deliveries/${d.id}/redeliver`, undefined);
      announce(t('consolec.delivery.queued'));
      s.reload();
    } catch (err) {
      setError(err);
    }
  };
  const when = (d) => {
    const at = d.last_attempt_at || d.created_at;
    return `${formatDate(at, lang, site.timezone)} ${formatTime(at, lang, site.timezone)}`;
  };
  return html`
    <div class="consolec-deliveries">
      <${FormError} error=${error || s.error} />
      ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
      ${s.data && s.data.items.length === 0 && html`<p class="empty">${t('consolec.delivery.none')}</p>`}
      ${s.data && s.data.items.length > 0 && html`
        <div class="consoleb-scroll">
          <table class="consoleb-table">
            <caption>${t('consolec.delivery.caption')}</caption>
            <thead><tr>
              <th scope="col">${t('consolec.delivery.event')}</th><th scope="col">${t('consolec.delivery.status')}</th>
              <th scope="col">${t('consolec.delivery.code')}</th><th scope="col">${t('consolec.delivery.when')}</th><th scope="col"><span class="sr-only">${t('consolec.delivery.actions')}</span></th>
            </tr></thead>
            <tbody>
              ${s.data.items.map((d) => html`<tr key=${d.id}>
                <td>${d.event_type}</td>
                <td>${t(`consolec.delivery.${d.status}`)}${d.error ? html`<br /><small>${d.error}</small>` : ''}</td>
                <td>${d.response_code ? String(d.response_code) : t('consolec.delivery.no_answer')}</td>
                <td>${when(d)}</td>
                <td><button class="button button--secondary" type="button" onClick=${() => again(d)}
                  aria-label=${t('consolec.delivery.again_label', { event: d.event_type })}>${t('consolec.delivery.again')}</button></td>
              </tr>`)}
            </tbody>
          </table>
        </div>`}
      <button class="button button--secondary" type="button" onClick=${s.reload}>${t('consolec.delivery.refresh')}</button>
    </div>`;
}

function Secret({ secret, onDone }) {
  const { t } = useApp();
  const ref = useFocusWhen(Boolean(secret));
  if (!secret) {
    return null;
  }
  return html`
    <div class="consoleb-credentials" tabindex="-1" ref=${ref}>
      <${CopyField} id="webhook-secret" label=${t('consolec.webhook.secret')} value=${secret} hint=${t('consolec.webhook.secret.once')} />
      <button class="button button--secondary" type="button" onClick=${onDone}>${t('consolec.webhook.secret.done')}</button>
    </div>`;
}

function Hook({ hook, site, onChange }) {
  const { t, api, lang, announce } = useApp();
  const [error, setError] = useState(null);
  const [secret, setSecret] = useState('');
  const [log, setLog] = useState(false);
  const [asking, setAsking] = useState(false);
  const askRef = useFocusWhen(asking);
  const act = async (call, words) => {
    setError(null);
    try {
      const out = await call();
      announce(words);
      return out;
    } catch (err) {
      setError(err);
      return null;
    }
  };
  const pause = () => act(() => api.patch(`/v1/webhooks/${hook.id}`, { enabled: !hook.enabled }),
    t(hook.enabled ? 'consolec.webhook.paused' : 'consolec.webhook.enabled_now')).then((w) => w && onChange());
  const rotate = () => act(() => api.post(`/v1/webhooks/${hook.id}/rotate-secret`, undefined, { idempotent: true }),
    t('consolec.webhook.rotated')).then((w) => w && setSecret(w.secret || ''));
  const remove = () => act(() => api.del(`/v1/webhooks/${hook.id}`), t('consolec.webhook.deleted')).then(() => onChange());
  return html`
    <li class="consoleb-row">
      <h3 class=${hook.description ? '' : 'consolec-url'}>${hook.description || hook.url}</h3>
      ${hook.description && html`<p class="consolec-url">${hook.url}</p>`}
      <p><span class="badge ${hook.enabled ? 'badge--ok' : ''}">${hook.enabled ? t('consolec.webhook.on') : t('consolec.webhook.off')}</span>
        · ${eventsWords(hook.events, t)}</p>
      ${!hook.enabled && hook.failing_since && html`<p class="alert alert--error">${t('consolec.webhook.failing', {
        date: formatDate(hook.failing_since, lang, site.timezone), time: formatTime(hook.failing_since, lang, site.timezone) })}</p>`}
      <${FormError} error=${error} />
      <${Secret} secret=${secret} onDone=${() => setSecret('')} />
      <div class="consoleb-actions">
        <button class="button button--secondary" type="button" onClick=${() => setLog(!log)} aria-expanded=${log ? 'true' : 'false'}>${t('consolec.webhook.log')}</button>
        <button class="button button--secondary" type="button" onClick=${pause}>${hook.enabled ? t('consolec.webhook.pause') : t('consolec.webhook.enable')}</button>
        <button class="button button--secondary" type="button" onClick=${rotate}>${t('consolec.webhook.rotate')}</button>
        <button class="button button--secondary" type="button" onClick=${() => setAsking(true)}>${t('consolec.webhook.delete')}</button>
      </div>
      ${asking && html`
        <div class="consoleb-inline" role="group" aria-labelledby="delete-${hook.id}" tabindex="-1" ref=${askRef}>
          <p id="delete-${hook.id}">${t('consolec.webhook.delete.confirm', { url: hook.url })}</p>
          <div class="consoleb-actions">
            <button class="button" type="button" onClick=${remove}>${t('consolec.webhook.delete.yes')}</button>
            <button class="button button--secondary" type="button" onClick=${() => setAsking(false)}>${t('consolec.close.no')}</button>
          </div>
        </div>`}
      ${log && html`<${Deliveries} hook=${hook} site=${site} />`}
    </li>`;
}

function Webhooks({ site }) {
  const { t, api } = useApp();
  const s = useLoad(() => api.get(`/v1/sites/${site.id}/webhooks`), [site.id]);
  const [created, setCreated] = useState(null);
  return html`
    <section class="card consoleb-section" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">${t('consolec.webhooks')}</h2>
      <p>${t('consolec.webhooks.intro')}</p>
      ${!s.data && !s.error && html`<p role="status">${t('loading')}</p>`}
      ${s.error && html`<${FormError} error=${s.error} />`}
      ${created && html`<${Secret} secret=${created.secret} onDone=${() => setCreated(null)} />`}
      ${s.data && s.data.items.length === 0 && html`<p class="empty">${t('consolec.webhooks.none')}</p>`}
      ${s.data && s.data.items.length > 0 && html`
        <ul class="consoleb-rows">${s.data.items.map((w) => html`<${Hook} key=${w.id} hook=${w} site=${site} onChange=${s.reload} />`)}</ul>`}
      <${NewWebhook} site=${site} onDone=${(w) => { setCreated(w); s.reload(); }} />
    </section>`;
}

export default function ConsoleCalendars() {
  const { t } = useApp();
  const cs = useConsoleSite();
  return html`
    <${ConsoleFrame} title=${t('consolec.calendars.title')} current="/console/calendars" cs=${cs}>
      <${Feeds} key=${`f${cs.site && cs.site.id}`} site=${cs.site} />
      <${Webhooks} key=${`w${cs.site && cs.site.id}`} site=${cs.site} />
    <//>`;
}
