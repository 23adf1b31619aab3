// The console's entries for campaigns and calendars & webhooks (console
// part C), each { path, label }: label is a catalogue key.
export const consoleNavC = [
  { path: '/console/campaigns', label: 'consolec.nav.campaigns' },
  { path: '/console/calendars', label: 'consolec.nav.calendars' },
];
