// The console's devices page: every lock, relay and bridge of the site
// with its presence and its last command, registering one (its
// credentials shown once, with the settings to type into its firmware),
// a new secret, a test unlock, retiring; and the site's access log.
import { html, useState, useEffect, useRef } from '../lib/ui.js';
import { useApp } from '../lib/context.js';
import { Page } from '../lib/page.js';
import { formatDate, formatTime } from '../lib/format.js';
import { DownloadLink } from '../lib/wallet.js';
import { useSite, SitePicker, SiteGate, Problem, useLoad, consoleError, localDay, midnight, nextDay, ConsoleNavB } from '../lib/console-b.js';

// firmwareLines: what to set on the device so that it reaches relais, for
// its protocol (README, "Devices and MQTT"; ../shared/PROTOCOLS.md). The
// broker's address is the manager's to confirm: relais cannot know the
// name devices reach it by.
export function firmwareLines(d, secret, broker) {
  const [host, port = '1883'] = broker.split(':');
  switch (d.protocol) {
    case 'tasmota':
      // Tasmota's console commands; FullTopic must stay the default.
      return [
        `Backlog MqttHost ${host}; MqttPort ${port}; MqttUser ${d.username}; MqttPassword ${secret}; Topic ${d.address}; FullTopic %prefix%/%topic%/`,
      ];
    case 'shelly':
      // Shelly Gen2+: the MQTT.SetConfig call (or the same fields in its web page, Settings › MQTT).
      return [
        JSON.stringify({
          method: 'MQTT.SetConfig',
          params: { config: { enable: true, server: `${host}:${port}`, user: d.username, pass: secret, topic_prefix: d.address, enable_rpc: true } },
        }, null, 2),
      ];
    case 'zigbee2mqtt':
      // A Zigbee2MQTT bridge: the mqtt part of its configuration.yaml.
      return [
        'mqtt:',
        `  base_topic: ${d.address}`,
        `  server: mqtt://${host}:${port}`,
        `  user: ${d.username}`,
        `  password: ${secret}`,
      ];
    default:
      // Relais's own firmware.
      return [
        `mqtt_server = ${host}:${port}`,
        `mqtt_username = ${d.username}`,
        `mqtt_password = ${secret}`,
        ...(d.topics ? [
          `command_topic = ${d.topics.command}`,
          `ack_topic = ${d.topics.reply}`,
          `status_topic = ${d.topics.presence}`,
        ] : []),
      ];
  }
}

// Credentials: the secret, shown this once, and the firmware's settings.
function Credentials({ device, secret, onClose }) {
  const { t } = useApp();
  const [broker, setBroker] = useState(`${location.hostname}:1883`);
  const id = `creds-${device.id}`;
  // Shown once: the focus goes to them, so that no one misses them.
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current) {
      ref.current.focus();
    }
  }, [secret]);
  return html`
    <div class="consoleb-credentials" role="region" aria-labelledby="${id}-title" tabindex="-1" ref=${ref}>
      <h3 id="${id}-title">${t('consoleb.creds.title', { name: device.name })}</h3>
      <p class="alert alert--info">${t('consoleb.creds.once')}</p>
      <dl class="consoleb-dl">
        <dt>${t('consoleb.creds.username')}</dt><dd><code class="consoleb-username">${device.username}</code></dd>
        <dt>${t('consoleb.creds.secret')}</dt><dd><code class="consoleb-secret">${secret}</code></dd>
      </dl>
      <div class="field">
        <label for="${id}-broker">${t('consoleb.creds.broker')}</label>
        <p class="hint" id="${id}-broker-hint">${t('consoleb.creds.broker_hint')}</p>
        <input id="${id}-broker" value=${broker} aria-describedby="${id}-broker-hint" onInput=${(e) => setBroker(e.target.value)} />
      </div>
      <p>${t(`consoleb.creds.how.${device.protocol}`)}</p>
      <pre class="consoleb-snippet" tabindex="0" aria-label=${t('consoleb.creds.snippet')}>${firmwareLines(device, secret, broker).join('\n')}</pre>
      <button class="button button--secondary" type="button" onClick=${onClose}>${t('consoleb.creds.done')}</button>
    </div>`;
}

function Register({ site, resources, bridges, onDone }) {
  const { t, api, announce } = useApp();
  const blank = { kind: 'lock', name: '', resource_id: '', bridge_id: '', protocol: 'tasmota', address: '', channel: '0', pulse_seconds: '5' };
  const [v, setV] = useState(blank);
  const [state, setState] = useState({ busy: false, error: null });
  const set = (k) => (e) => setV({ ...v, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    setState({ busy: true, error: null });
    const body = { kind: v.kind, name: v.name.trim(), resource_id: v.resource_id || null };
    if (v.bridge_id) {
      body.bridge_id = v.bridge_id;
    } else {
      body.protocol = v.protocol;
    }
    if (v.address.trim()) {
      body.address = v.address.trim();
    }
    body.channel = Number(v.channel) || 0;
    if (v.kind === 'lock') {
      body.pulse_seconds = Number(v.pulse_seconds) || 0;
    }
    try {
      const d = await api.post(`/v1/sites/${site.id}/devices`, body, { idempotent: true });
      setState({ busy: false, error: null });
      setV(blank);
      announce(t('consoleb.devices.registered', { name: d.name }));
      onDone(d);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const f = state.error && state.error.fields ? state.error.fields : {};
  const field = (name, label, input, hint) => html`
    <div class="field ${f[name] ? 'field--invalid' : ''}">
      <label for="dev-${name}">${label}</label>
      ${hint && html`<p class="hint" id="dev-${name}-hint">${hint}</p>`}
      ${input}
      ${f[name] && html`<p class="field-error" id="dev-${name}-error">${f[name]}</p>`}
    </div>`;
  const aria = (name, hint) => ({
    id: `dev-${name}`, 'aria-invalid': f[name] ? 'true' : undefined,
    'aria-describedby': [hint && `dev-${name}-hint`, f[name] && `dev-${name}-error`].filter(Boolean).join(' ') || undefined,
  });
  const usable = resources.filter((r) => (v.kind === 'relay' ? r.kind === 'machine' : r.kind === 'room'));
  return html`
    <form class="form card consoleb-section" onSubmit=${submit} novalidate aria-labelledby="register-title">
      <h2 id="register-title">${t('consoleb.devices.register')}</h2>
      ${state.error && html`<${Problem} error=${state.error} />`}
      ${field('kind', t('consoleb.devices.kind'), html`<select ...${aria('kind')} value=${v.kind} onChange=${set('kind')}>
        <option value="lock">${t('consoleb.kind.lock')}</option><option value="relay">${t('consoleb.kind.relay')}</option></select>`)}
      ${field('name', t('consoleb.devices.name'), html`<input ...${aria('name')} value=${v.name} onInput=${set('name')} required />`)}
      ${field('resource_id', v.kind === 'relay' ? t('consoleb.devices.machine') : t('consoleb.devices.room'),
        html`<select ...${aria('resource_id')} value=${v.resource_id} onChange=${set('resource_id')}>
          ${v.kind === 'lock' && html`<option value="">${t('consoleb.devices.entrance')}</option>`}
          ${v.kind === 'relay' && html`<option value="">${t('consoleb.devices.choose')}</option>`}
          ${usable.map((r) => html`<option key=${r.id} value=${r.id}>${r.name}</option>`)}</select>`)}
      ${bridges.length > 0 && field('bridge_id', t('consoleb.devices.bridge'), html`<select ...${aria('bridge_id')} value=${v.bridge_id} onChange=${set('bridge_id')}>
        <option value="">${t('consoleb.devices.nobridge')}</option>
        ${bridges.map((b) => html`<option key=${b.id} value=${b.id}>${b.name}</option>`)}</select>`)}
      ${!v.bridge_id && field('protocol', t('consoleb.devices.protocol'), html`<select ...${aria('protocol')} value=${v.protocol} onChange=${set('protocol')}>
        <option value="tasmota">Tasmota</option><option value="shelly">Shelly</option><option value="relais">${t('consoleb.protocol.relais')}</option></select>`)}
      ${field('address', t('consoleb.devices.address'), html`<input ...${aria('address', true)} value=${v.address} onInput=${set('address')} />`,
        t(`consoleb.devices.address_hint.${v.bridge_id ? 'bridge' : v.protocol}`))}
      ${field('channel', t('consoleb.devices.channel'), html`<input ...${aria('channel', true)} type="number" min="0" max="32" value=${v.channel} onInput=${set('channel')} />`,
        t('consoleb.devices.channel_hint'))}
      ${v.kind === 'lock' && field('pulse_seconds', t('consoleb.devices.pulse'), html`<input ...${aria('pulse_seconds')} type="number" min="1" max="3600" value=${v.pulse_seconds} onInput=${set('pulse_seconds')} />`)}
      <button class="button" type="submit">${state.busy ? t('consoleb.busy') : t('consoleb.devices.register_submit')}</button>
    </form>`;
}

function Unlock({ device, onDone }) {
  const { t, api, announce } = useApp();
  const [reason, setReason] = useState('');
  const [state, setState] = useState({ busy: false, error: null, result: null });
  const id = `unlock-${device.id}`;
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    setState({ busy: true, error: null, result: null });
    try {
      const r = await api.post(`/v1/doors/${device.id}/unlock`, reason.trim() ? { reason: reason.trim() } : {}, { idempotent: true });
      setState({ busy: false, error: null, result: r });
      announce(t('consoleb.unlock.done', { ms: r.latency_ms || 0 }));
    } catch (error) {
      setState({ busy: false, error, result: null });
      announce(consoleError(error, t));
    }
    onDone();
  };
  return html`
    <form class="form consoleb-inline" onSubmit=${submit} novalidate aria-label=${t('consoleb.unlock.form', { name: device.name })}>
      <div class="field">
        <label for="${id}-reason">${t('consoleb.unlock.reason')}</label>
        <input id="${id}-reason" value=${reason} onInput=${(e) => setReason(e.target.value)} />
      </div>
      <button class="button" type="submit">${state.busy ? t('consoleb.busy') : t('consoleb.unlock.submit')}</button>
      ${state.result && html`<p class="alert alert--success consoleb-answer">${t('consoleb.unlock.done', { ms: state.result.latency_ms || 0 })}</p>`}
      ${state.error && html`<p class="alert alert--error consoleb-answer">${consoleError(state.error, t)}</p>`}
    </form>`;
}

function outcomeText(ev, t) {
  if (!ev) {
    return t('consoleb.devices.nocommand');
  }
  return t('consoleb.devices.last', { what: t(`consoleb.event.${ev.kind}`), outcome: t(`consoleb.outcome.${ev.outcome || ev.decision}`) });
}

function DeviceRow({ device, resources, lastEvent, onChange, creds, setCreds, zone }) {
  const { t, lang, api, announce } = useApp();
  const [open, setOpen] = useState('');
  const [error, setError] = useState(null);
  const rotate = async () => {
    setError(null);
    try {
      const d = await api.post(`/v1/devices/${device.id}/secret`, undefined);
      setCreds({ device: d, secret: d.secret });
      announce(t('consoleb.devices.rotated', { name: device.name }));
    } catch (err) {
      setError(err);
    }
  };
  const retire = async () => {
    setError(null);
    try {
      await api.del(`/v1/devices/${device.id}`);
      announce(t('consoleb.devices.retired', { name: device.name }));
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  const res = resources.find((r) => r.id === device.resource_id);
  return html`
    <li class="consoleb-row consoleb-device" key=${device.id}>
      <h3 class="consoleb-device__name">${device.name}</h3>
      <p>${t(`consoleb.kind.${device.kind}`)} · ${res ? res.name : (device.kind === 'lock' ? t('consoleb.devices.entrance') : '')} · ${device.protocol || ''} ${device.address ? html`<code>${device.address}</code>` : ''}${device.channel ? ` · ${t('consoleb.devices.channel_n', { n: device.channel })}` : ''}</p>
      <p><span class="badge ${device.online ? 'badge--ok' : ''}">${device.online ? t('consoleb.devices.online') : t('consoleb.devices.offline')}</span>
        ${' '}${device.last_seen_at ? t('consoleb.devices.seen', { date: formatDate(device.last_seen_at, lang, zone), time: formatTime(device.last_seen_at, lang, zone) }) : t('consoleb.devices.never')}</p>
      <p class="consoleb-last">${outcomeText(lastEvent, t)}</p>
      ${device.login_problem && html`<p class="alert alert--error">${t('consoleb.devices.login_problem', { why: device.login_problem })}</p>`}
      ${creds && creds.device.id === device.id && html`<${Credentials} device=${creds.device} secret=${creds.secret} onClose=${() => setCreds(null)} />`}
      <div class="consoleb-actions">
        ${device.kind === 'lock' && html`<button class="button button--secondary" type="button" aria-expanded=${open === 'unlock' ? 'true' : 'false'}
          onClick=${() => setOpen(open === 'unlock' ? '' : 'unlock')} aria-label=${t('consoleb.unlock.open_label', { name: device.name })}>${t('consoleb.unlock.open')}</button>`}
        ${!device.bridge_id && html`<button class="button button--secondary" type="button" onClick=${rotate}
          aria-label=${t('consoleb.devices.rotate_label', { name: device.name })}>${t('consoleb.devices.rotate')}</button>`}
        <button class="button button--secondary" type="button" aria-expanded=${open === 'retire' ? 'true' : 'false'}
          onClick=${() => setOpen(open === 'retire' ? '' : 'retire')} aria-label=${t('consoleb.devices.retire_label', { name: device.name })}>${t('consoleb.devices.retire')}</button>
      </div>
      ${open === 'unlock' && html`<${Unlock} device=${device} onDone=${onChange} />`}
      ${open === 'retire' && html`<p>${t('consoleb.devices.retire_confirm', { name: device.name })}</p>
        <button class="button button--danger" type="button" onClick=${retire}>${t('consoleb.devices.retire_yes')}</button>`}
      ${error && html`<${Problem} error=${error} />`}
    </li>`;
}

function Bridges({ site, bridges, onChange }) {
  const { t, api, announce } = useApp();
  const [v, setV] = useState({ name: '', protocol: 'zigbee2mqtt', address: '' });
  const [state, setState] = useState({ busy: false, error: null, made: null });
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    setState({ busy: true, error: null, made: null });
    try {
      const b = await api.post(`/v1/sites/${site.id}/bridges`, { name: v.name.trim(), protocol: v.protocol, address: v.address.trim() }, { idempotent: true });
      setState({ busy: false, error: null, made: b });
      announce(t('consoleb.devices.registered', { name: b.name }));
      onChange();
    } catch (error) {
      setState({ busy: false, error, made: null });
    }
  };
  const f = state.error && state.error.fields ? state.error.fields : {};
  return html`
    <section class="card consoleb-section" aria-labelledby="bridges-title">
      <h2 id="bridges-title">${t('consoleb.bridges.title')}</h2>
      ${bridges.length === 0 ? html`<p class="empty">${t('consoleb.bridges.none')}</p>` : html`
        <ul class="consoleb-rows">${bridges.map((b) => html`<li class="consoleb-row" key=${b.id}>
          <p><strong>${b.name}</strong> · ${b.protocol} <code>${b.address}</code></p>
          <p><span class="badge ${b.online ? 'badge--ok' : ''}">${b.online ? t('consoleb.devices.online') : t('consoleb.devices.offline')}</span></p></li>`)}</ul>`}
      ${state.made && html`<${Credentials} device=${state.made} secret=${state.made.secret} onClose=${() => setState({ ...state, made: null })} />`}
      <form class="form" onSubmit=${submit} novalidate aria-label=${t('consoleb.bridges.register')}>
        ${state.error && html`<${Problem} error=${state.error} />`}
        <div class="field"><label for="bridge-name">${t('consoleb.bridges.name')}</label>
          <input id="bridge-name" value=${v.name} onInput=${(e) => setV({ ...v, name: e.target.value })} aria-invalid=${f.name ? 'true' : undefined} />
          ${f.name && html`<p class="field-error">${f.name}</p>`}</div>
        <div class="field"><label for="bridge-protocol">${t('consoleb.bridges.protocol')}</label>
          <select id="bridge-protocol" value=${v.protocol} onChange=${(e) => setV({ ...v, protocol: e.target.value })}>
            <option value="zigbee2mqtt">Zigbee2MQTT</option><option value="tasmota">Tasmota</option><option value="shelly">Shelly</option></select></div>
        <div class="field"><label for="bridge-address">${t('consoleb.bridges.address')}</label>
          <input id="bridge-address" value=${v.address} onInput=${(e) => setV({ ...v, address: e.target.value })} aria-invalid=${f.address ? 'true' : undefined} />
          ${f.address && html`<p class="field-error">${f.address}</p>`}</div>
        <button class="button button--secondary" type="submit">${state.busy ? t('consoleb.busy') : t('consoleb.bridges.register')}</button>
      </form>
    </section>`;
}

function AccessLog({ site, devices, round }) {
  const { t, lang, api } = useApp();
  const zone = site.timezone;
  const [day, setDay] = useState(() => localDay(new Date(), zone));
  const [device, setDevice] = useState('');
  const q = new URLSearchParams({ from: midnight(day, zone), to: midnight(nextDay(day), zone) });
  if (device) {
    q.set('device', device);
  }
  const s = useLoad(() => api.get(`/v1/sites/${site.id}/access-events?${q}&limit=100`), [site.id, day, device, round]);
  const names = Object.fromEntries(devices.map((d) => [d.id, d.name]));
  return html`
    <section class="card consoleb-section" aria-labelledby="log-title">
      <h2 id="log-title">${t('consoleb.log.title')}</h2>
      <div class="consoleb-filters">
        <div class="field"><label for="log-day">${t('consoleb.log.day')}</label>
          <input id="log-day" type="date" value=${day} onChange=${(e) => e.target.value && setDay(e.target.value)} /></div>
        <div class="field"><label for="log-device">${t('consoleb.log.device')}</label>
          <select id="log-device" value=${device} onChange=${(e) => setDevice(e.target.value)}>
            <option value="">${t('consoleb.log.all')}</option>
            ${devices.map((d) => html`<option key=${d.id} value=${d.id}>${d.name}</option>`)}</select></div>
      </div>
      <p><${DownloadLink} class="button button--secondary" href=${`/v1/sites/${site.id}/access-events.csv?${q}`}>${t('consoleb.log.csv')}<//></p>
      ${!s.data ? (s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`)
        : s.data.items.length === 0 ? html`<p class="empty">${t('consoleb.log.none')}</p>` : html`
        <ul class="consoleb-rows consoleb-log">
          ${s.data.items.map((ev) => html`<li class="consoleb-row" key=${ev.id}>
            <p><strong>${formatTime(ev.occurred_at, lang, zone)}</strong> · ${t(`consoleb.event.${ev.kind}`)} · ${names[ev.device_id] || ''}</p>
            <p>${ev.actor_name || ''} · ${t(`consoleb.outcome.${ev.outcome || ev.decision}`)}${ev.detail ? ` · ${ev.detail}` : ''}</p>
          </li>`)}
        </ul>`}
    </section>`;
}

async function loadAll(api, site) {
  const [devices, bridges, resources, events] = await Promise.all([
    api.get(`/v1/sites/${site.id}/devices`),
    api.get(`/v1/sites/${site.id}/bridges`),
    api.get(`/v1/sites/${site.id}/resources`),
    api.get(`/v1/sites/${site.id}/access-events?limit=100`),
  ]);
  // The last command each device got, from the newest events.
  const last = {};
  for (const ev of events.items) {
    if (ev.device_id && !last[ev.device_id] && ev.kind !== 'device_online' && ev.kind !== 'device_offline') {
      last[ev.device_id] = ev;
    }
  }
  return { devices: devices.items, bridges: bridges.items, resources: resources.items, last };
}

function Devices({ site }) {
  const { t, api } = useApp();
  const s = useLoad(() => loadAll(api, site), [site.id]);
  const [creds, setCreds] = useState(null);
  // Each reload of the devices reads the access log again too.
  const [round, setRound] = useState(0);
  const reload = () => {
    setRound((r) => r + 1);
    s.reload();
  };
  if (!s.data) {
    return s.error ? html`<${Problem} error=${s.error} />` : html`<p role="status">${t('loading')}</p>`;
  }
  const { devices, bridges, resources, last } = s.data;
  const registered = (d) => {
    setCreds(d.secret ? { device: d, secret: d.secret } : null);
    reload();
  };
  return html`
    <section class="card consoleb-section" aria-labelledby="devices-title">
      <h2 id="devices-title">${t('consoleb.devices.list')}</h2>
      <p><button class="button button--secondary" type="button" onClick=${reload}>${t('consoleb.devices.refresh')}</button></p>
      ${devices.length === 0 ? html`<p class="empty">${t('consoleb.devices.none')}</p>` : html`
        <ul class="consoleb-rows">
          ${devices.map((d) => html`<${DeviceRow} key=${d.id} device=${d} resources=${resources} lastEvent=${last[d.id]} zone=${site.timezone}
            onChange=${reload} creds=${creds} setCreds=${setCreds} />`)}
        </ul>`}
    </section>
    <${Register} site=${site} resources=${resources} bridges=${bridges} onDone=${registered} />
    <${Bridges} site=${site} bridges=${bridges} onChange=${reload} />
    <${AccessLog} site=${site} devices=${devices} round=${round} />`;
}

export default function ConsoleDevices() {
  const { t } = useApp();
  const state = useSite();
  return html`
    <${Page} title=${t('consoleb.devices.title')} wide>
      <${ConsoleNavB} current="/console/devices" />
      <${SitePicker} state=${state} />
      <${SiteGate} state=${state}>${(site) => html`<${Devices} key=${site.id} site=${site} />`}<//>
    <//>`;
}
