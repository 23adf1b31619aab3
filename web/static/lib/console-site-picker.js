// The console's one site picker: the sites a person manages (every site
// for an admin), the one chosen for the whole console (remembered on this
// device), and the select that changes it. Every console page uses it,
// through lib/console.js (useConsoleSite) or lib/console-b.js (useSite);
// a new page may import it directly.
import { html, useState, useEffect } from './ui.js';
import { useApp } from './context.js';
import './console-words.js';

const siteKey = 'relais.console.site';

export function rememberedSite() {
  try {
    return localStorage.getItem(siteKey) || '';
  } catch {
    return '';
  }
}

// rememberSite makes id the console's site on this device, for instance
// before leading an admin to a page about that site.
export function rememberSite(id) {
  try {
    localStorage.setItem(siteKey, id);
  } catch {
    // Private browsing may refuse storage: the choice lasts this page.
  }
}

// managedSites: the sites whose console me may open. The API decides
// again on every call; this only keeps other sites out of the picker.
export async function managedSites(api, me) {
  const list = await api.get('/v1/sites?limit=200');
  if (me.role === 'admin') {
    return list.items;
  }
  const mine = new Set(me.managed_site_ids || []);
  return list.items.filter((s) => mine.has(s.id));
}

// useSitePicker: {loading}, {error}, or {sites, site} once loaded; and
// choose(id), which remembers the choice for every console page.
export function useSitePicker() {
  const { api, me } = useApp();
  const [state, setState] = useState({ loading: true, sites: [], site: null });
  const [chosen, setChosen] = useState(rememberedSite);
  useEffect(() => {
    managedSites(api, me).then(
      (sites) => setState({ loading: false, sites }),
      (error) => setState({ loading: false, error, sites: [] }),
    );
  }, [me && me.id]);
  const site = state.sites.find((s) => s.id === chosen) || state.sites[0] || null;
  const choose = (id) => {
    rememberSite(id);
    setChosen(id);
  };
  return { ...state, site, choose };
}

// SitePicker shows a select when there are several sites, the site's
// name when there is one, and nothing otherwise (the page says why).
export function SitePicker({ state }) {
  const { t } = useApp();
  if (!state.sites || state.sites.length === 0) {
    return null;
  }
  if (state.sites.length === 1) {
    return html`<p class="console-sitename">${t('console.site.one', { name: state.site.name })}</p>`;
  }
  return html`
    <div class="field console-site">
      <label for="console-site">${t('console.site.label')}</label>
      <select id="console-site" value=${state.site ? state.site.id : ''} onChange=${(e) => state.choose(e.target.value)}>
        ${state.sites.map((s) => html`<option key=${s.id} value=${s.id}>${s.name}</option>`)}
      </select>
    </div>`;
}
