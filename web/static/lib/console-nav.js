// The managers' console's own navigation, shown on each of its pages
// under the heading. One entry a line, in order: the console's other
// pages add theirs at the end ({ path, label: a catalogue key, admin:
// true for the network's pages, which only admins see listed }).
import { html } from './ui.js';
import { useApp } from './context.js';
import { consoleNavB } from './console-nav-b.js';
// --- console-c ---
import { consoleNavC } from './console-nav-c.js';

export const consoleNav = [
  { path: '/console', label: 'console.nav.today' },
  { path: '/console/planning', label: 'console.nav.planning' },
  { path: '/console/people', label: 'console.nav.people' },
  ...consoleNavB,
  // --- console-c ---
  ...consoleNavC,
  // --- services-app ---
  { path: '/console/ateliers', label: 'servicesapp.nav.ateliers' },
  { path: '/console/appointments', label: 'servicesapp.nav.appointments' },
  { path: '/console/partners', label: 'partners.nav' },
  // --- console-d ---
  { path: '/console/network', label: 'consoled.nav.network', admin: true },
  { path: '/console/network/users', label: 'consoled.nav.users', admin: true },
  { path: '/console/network/plans', label: 'consoled.nav.plans', admin: true },
];

// ConsoleNav is the navigation as me may use it: the network's pages for
// admins only.
export function ConsoleNav({ current }) {
  const { t, me } = useApp();
  const admin = Boolean(me) && me.role === 'admin';
  return html`
    <nav class="console-nav" aria-label=${t('console.nav.label')}>
      <ul>
        ${consoleNav.filter((e) => admin || !e.admin).map((e) => html`
          <li key=${e.path}><a href=${e.path} aria-current=${e.path === current ? 'page' : undefined}>${t(e.label)}</a></li>`)}
      </ul>
    </nav>`;
}
