// The network's accounts (admins): find one by the start of its email,
// open it, make it an admin or a member again, disable or enable it, and
// erase it when its owner asks, after a confirmation.
import { html, useState } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Field, FormError, useSubmit } from '../../lib/forms.js';
import { useFocusWhen } from '../../lib/wallet.js';
import { formatDate } from '../../lib/format.js';
import { Facts } from '../../lib/console.js';
import { NetworkFrame } from '../../lib/console-network.js';

function Erase({ user, onDone, onCancel }) {
  const { t, api, announce } = useApp();
  const s = useSubmit(async () => {
    await api.del(`/v1/users/${encodeURIComponent(user.id)}`);
    announce(t('consoled.users.erased', { name: user.name }));
    onDone();
  });
  const ref = useFocusWhen(true);
  return html`
    <form ref=${ref} class="form consoleb-inline" onSubmit=${s.onSubmit} novalidate aria-labelledby=${`erase-${user.id}`}>
      <p id=${`erase-${user.id}`} tabindex="-1"><strong>${t('consoled.users.erase.confirm', { name: user.name, email: user.email })}</strong></p>
      <p>${t('consoled.users.erase.what')}</p>
      <${FormError} error=${s.error} />
      <p class="console-actions">
        <button class="button button--danger" type="submit" disabled=${s.busy}>${t('consoled.users.erase.submit')}</button>
        <button class="button button--secondary" type="button" onClick=${onCancel}>${t('consoled.users.erase.keep')}</button>
      </p>
    </form>`;
}

function User({ user, onChange, onErased }) {
  const { t, lang, api, announce, me } = useApp();
  const [role, setRole] = useState(user.role);
  const [erasing, setErasing] = useState(false);
  const save = useSubmit(async () => {
    const u = await api.patch(`/v1/users/${encodeURIComponent(user.id)}`, { role });
    announce(t(u.role === 'admin' ? 'consoled.users.now_admin' : 'consoled.users.now_member', { name: u.name }));
    onChange(u);
  });
  const toggle = useSubmit(async () => {
    const u = await api.patch(`/v1/users/${encodeURIComponent(user.id)}`, { disabled: !user.disabled });
    announce(t(u.disabled ? 'consoled.users.disabled_done' : 'consoled.users.enabled_done', { name: u.name }));
    onChange(u);
  });
  const self = me && me.id === user.id;
  return html`
    <div class="consoleb-inline">
      <${Facts} items=${[
        [t('consoled.users.email'), user.email || t('consoled.users.noemail')],
        [t('consoled.users.since'), formatDate(user.created_at, lang, 'Europe/Paris')],
        [t('consoled.users.state'), t(user.disabled ? 'consoled.users.state.disabled' : (user.email_verified ? 'consoled.users.state.verified' : 'consoled.users.state.unverified'))],
      ]} />
      ${self && html`<p class="hint">${t('consoled.users.self')}</p>`}
      ${!self && html`
        <form class="form console-inline" onSubmit=${save.onSubmit} novalidate>
          <${FormError} error=${save.error} />
          <${Field} name=${`role-${user.id}`} label=${t('consoled.users.role')} value=${role} onInput=${setRole} error=${save.fields.role}>
            <option value="member">${t('consoled.users.role.member')}</option>
            <option value="admin">${t('consoled.users.role.admin')}</option>
          <//>
          <button class="button" type="submit" disabled=${save.busy}>${t('consoled.users.role.submit')}</button>
        </form>
        <form class="form console-inline" onSubmit=${toggle.onSubmit} novalidate>
          <${FormError} error=${toggle.error} />
          <button class="button button--secondary" type="submit" disabled=${toggle.busy}>${t(user.disabled ? 'consoled.users.enable' : 'consoled.users.disable')}</button>
        </form>
        ${!erasing && html`<p><button class="button button--secondary" type="button" aria-expanded="false" onClick=${() => setErasing(true)}>${t('consoled.users.erase')}</button></p>`}
        ${erasing && html`<${Erase} user=${user} onDone=${onErased} onCancel=${() => setErasing(false)} />`}`}
    </div>`;
}

function Users() {
  const { t, api, announce } = useApp();
  const [q, setQ] = useState('');
  const [found, setFound] = useState(null);
  const [open, setOpen] = useState(null);
  const search = useSubmit(async () => {
    const list = await api.get(`/v1/users?limit=50${q.trim() ? `&email=${encodeURIComponent(q.trim())}` : ''}`);
    setFound(list.items);
    setOpen(list.items.length === 1 ? list.items[0].id : null);
    announce(t('consoled.users.found', { n: list.items.length }));
  });
  const replace = (u) => setFound(found.map((x) => (x.id === u.id ? u : x)));
  const erased = (u) => {
    setFound(found.filter((x) => x.id !== u.id));
    setOpen(null);
  };
  return html`
    <section aria-labelledby="users-search">
      <h2 id="users-search">${t('consoled.users.search')}</h2>
      <form class="form console-inline" role="search" onSubmit=${search.onSubmit} novalidate>
        <${FormError} error=${search.error} />
        <${Field} name="users-q" type="search" label=${t('consoled.users.q')} hint=${t('consoled.users.q.hint')} value=${q} onInput=${setQ} error=${search.fields.email} />
        <button class="button" type="submit" disabled=${search.busy}>${t('consoled.users.submit')}</button>
      </form>
      ${found && found.length === 0 && html`<p class="empty">${t('consoled.users.none')}</p>`}
      ${found && found.length > 0 && html`
        <ul class="console-list console-bookings">${found.map((u) => html`
          <li key=${u.id}>
            <p><strong>${u.name}</strong> · ${u.email || t('consoled.users.noemail')}${u.role === 'admin' ? ` · ${t('consoled.users.role.admin')}` : ''}${u.disabled ? ` · ${t('consoled.users.state.disabled')}` : ''}</p>
            <p class="console-actions"><button class="button button--secondary" type="button" aria-expanded=${open === u.id ? 'true' : 'false'}
              aria-label=${t('consoled.users.open.named', { name: u.name })} onClick=${() => setOpen(open === u.id ? null : u.id)}>${t('consoled.users.open')}</button></p>
            ${open === u.id && html`<${User} key=${`${u.id}-${u.updated_at}`} user=${u} onChange=${replace} onErased=${() => erased(u)} />`}
          </li>`)}
        </ul>`}
    </section>`;
}

export default function NetworkUsers() {
  const { t } = useApp();
  return html`
    <${NetworkFrame} title=${t('consoled.users.title')} current="/console/network/users">
      <${Users} />
    <//>`;
}
