// The managers' console's own navigation, shown on each of its pages
// under the heading. One entry a line, in order: the console's other
// pages add theirs at the end ({ path, label: a catalogue key }).
import { consoleNavB } from './console-nav-b.js';

export const consoleNav = [
  { path: '/console', label: 'console.nav.today' },
  { path: '/console/planning', label: 'console.nav.planning' },
  { path: '/console/people', label: 'console.nav.people' },
  ...consoleNavB,
  // --- services-app ---
  { path: '/console/ateliers', label: 'servicesapp.nav.ateliers' },
  { path: '/console/appointments', label: 'servicesapp.nav.appointments' },
];
