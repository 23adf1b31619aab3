// The console's entries for money, devices, resources and plans (console
// part B), each { path, label }: label is a catalogue key. The lead joins
// them with the console's other entries (console-nav.js).
export const consoleNavB = [
  { path: '/console/money', label: 'consoleb.nav.money' },
  { path: '/console/devices', label: 'consoleb.nav.devices' },
  { path: '/console/resources', label: 'consoleb.nav.resources' },
  { path: '/console/plans', label: 'consoleb.nav.plans' },
];
