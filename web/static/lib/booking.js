// The arithmetic of booking: a site's local days and hours as instants,
// the timeline's slots from opening hours and free intervals, and the
// recurrence rule of a repeated booking. Pure functions of their
// arguments, with no clock of their own (the browser tests check them,
// e2e/book_test.go): times are always the site's, whatever the phone's.

const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const rruleDays = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

// zoneOffset is how far ahead of UTC the zone's wall clock is at the
// instant ms, in milliseconds.
function zoneOffset(ms, timeZone) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms))) {
    parts[p.type] = Number(p.value);
  }
  const asUTC = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return asUTC - Math.floor(ms / 1000) * 1000;
}

// zonedInstant is the instant (ISO, UTC) of minutes past midnight on date
// ("2026-12-09") in the zone, found from the zone's offset at that wall
// time read as UTC, corrected once when the offset differs at the result
// (a day the clocks change).
export function zonedInstant(date, minutes, timeZone) {
  const [y, m, d] = date.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  const first = zoneOffset(wall, timeZone);
  let t = wall - first;
  const second = zoneOffset(t, timeZone);
  if (second !== first) {
    t = wall - second;
  }
  return new Date(t).toISOString();
}

// addDays: the date n days after date, both "YYYY-MM-DD".
export function addDays(date, n) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

// weekdayOf: "mon" … "sun" for a date.
export function weekdayOf(date) {
  const [y, m, d] = date.split('-').map(Number);
  return weekdays[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
}

function minutesOf(hhmm) {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

// dayHours: the opening intervals of date as [from, to] minutes past
// midnight. null hours are open around the clock; a missing day is closed.
export function dayHours(openingHours, date) {
  if (openingHours === null || openingHours === undefined) {
    return [[0, 1440]];
  }
  return (openingHours[weekdayOf(date)] || []).map(([a, b]) => [minutesOf(a), minutesOf(b)]);
}

// slotsOf cuts a resource's opening hours of date into slots of step
// minutes (the last one of an interval may be shorter): each free when a
// free interval covers it whole (and then names that interval), past when
// it has begun, busy otherwise (taken, closed, too soon to book).
export function slotsOf({ date, timeZone, hours, free, step, now }) {
  const nowMs = new Date(now).getTime();
  const spans = free.map((f) => ({ start: f.start, end: f.end, s: new Date(f.start).getTime(), e: new Date(f.end).getTime() }));
  const out = [];
  for (const [from, to] of hours) {
    for (let m = from; m < to; m += step) {
      const start = zonedInstant(date, m, timeZone);
      const end = zonedInstant(date, Math.min(m + step, to), timeZone);
      const s = new Date(start).getTime();
      const e = new Date(end).getTime();
      const within = spans.find((f) => f.s <= s && e <= f.e);
      let state = 'busy';
      if (within) {
        state = 'free';
      } else if (s < nowMs) {
        state = 'past';
      }
      out.push({ start, end, state, interval: within ? { start: within.start, end: within.end } : null });
    }
  }
  return out;
}

// steps: the instants from `from` to `to` (ISO), every `step` minutes,
// both ends included when they fall on a step.
export function steps(from, to, step) {
  const out = [];
  const end = new Date(to).getTime();
  for (let t = new Date(from).getTime(); t <= end; t += step * 60000) {
    out.push(new Date(t).toISOString());
  }
  return out;
}

// rrule is the recurrence rule of a repeated booking: weekly on days
// (["mon", "thu"]) or daily, until a date of the site (the whole day
// counts) or a number of times.
export function rrule({ freq, days = [], until = '', count = 0 }) {
  const parts = [`FREQ=${freq === 'daily' ? 'DAILY' : 'WEEKLY'}`];
  if (freq !== 'daily' && days.length > 0) {
    parts.push(`BYDAY=${weekdays.filter((d) => days.includes(d)).map((d) => rruleDays[weekdays.indexOf(d)]).join(',')}`);
  }
  if (until) {
    // Without Z, the API reads UNTIL in the site's time zone.
    parts.push(`UNTIL=${until.replaceAll('-', '')}T235959`);
  } else {
    parts.push(`COUNT=${count}`);
  }
  return parts.join(';');
}
