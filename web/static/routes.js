// The app's pages. access says who may open one: "guest" (signed out:
// signing in and up), "member" (signed in), "any", and, for the managers'
// console to come, "manager" (an admin or a site's manager). A member's
// page opened signed out leads to signing in, then back to it.
import Home from './pages/home.js';
import SignIn from './pages/signin.js';
import SignUp from './pages/signup.js';
import VerifyEmail from './pages/verify.js';
import ForgotPassword from './pages/forgot.js';
import ResetPassword from './pages/reset.js';
import Account from './pages/account.js';
// --- book ---
import Book from './pages/book.js';
import Bookings from './pages/bookings.js';

export const routes = [
  { path: '/', page: Home, access: 'member', nav: 'nav.home' },
  { path: '/book', page: Book, access: 'member', nav: 'nav.book' },
  { path: '/bookings', page: Bookings, access: 'member', nav: 'nav.bookings' },
  { path: '/account', page: Account, access: 'member', nav: 'nav.account' },
  { path: '/sign-in', page: SignIn, access: 'guest' },
  { path: '/sign-up', page: SignUp, access: 'guest' },
  { path: '/forgot-password', page: ForgotPassword, access: 'guest' },
  // The targets of mailed links (identity builds them from PUBLIC_URL).
  { path: '/verify-email', page: VerifyEmail, access: 'any' },
  { path: '/reset-password', page: ResetPassword, access: 'any' },
  // --- shell ---
  // The export's ready mail links to PUBLIC_URL/account/export: the
  // account page, whose "My data" section downloads it.
  { path: '/account/export', page: Account, access: 'member' },
];

// navOrder is the members' navigation, in the order of their day: pages
// added by later modules (routes.push) still find their place.
export const navOrder = ['nav.home', 'nav.book', 'nav.bookings', 'nav.plans', 'nav.invoices', 'nav.account', 'console.nav.main'];

// isManager: who will see the console's pages.
export function isManager(me) {
  return Boolean(me) && (me.role === 'admin' || (me.managed_site_ids || []).length > 0);
}

// redirectFor says where a route sends who may not open it, or null.
export function redirectFor(route, me, here) {
  switch (route.access) {
    case 'member':
      return me ? null : `/sign-in?next=${encodeURIComponent(here)}`;
    case 'manager':
      if (!me) {
        return `/sign-in?next=${encodeURIComponent(here)}`;
      }
      return isManager(me) ? null : '/';
    case 'guest':
      return me ? '/' : null;
    default:
      return null;
  }
}

// --- wallet ---
// Plans and payments, invoices, credits, campaigns and trainings. The
// invoices page links to credits, contributions and trainings (WalletNav),
// so the main navigation gains two entries only. A campaign's page is
// public: anyone may read it, members contribute.
import Plans from './pages/plans.js';
import InvoicesPage from './pages/invoices.js';
import Credits from './pages/credits.js';
import Campaign from './pages/campaign.js';
import Contributions from './pages/contributions.js';
import Qualifications from './pages/qualifications.js';
import { PaymentSuccess, PaymentCancel } from './pages/payments.js';

routes.push(
  { path: '/plans', page: Plans, access: 'member', nav: 'nav.plans' },
  { path: '/invoices', page: InvoicesPage, access: 'member', nav: 'nav.invoices' },
  { path: '/credits', page: Credits, access: 'member' },
  { path: '/contributions', page: Contributions, access: 'member' },
  { path: '/qualifications', page: Qualifications, access: 'member' },
  // Stripe Checkout's return pages (their absolute URLs go in each checkout).
  { path: '/payments/success', page: PaymentSuccess, access: 'member' },
  { path: '/payments/cancel', page: PaymentCancel, access: 'member' },
  { path: '/campaigns/:id', page: Campaign, access: 'any' },
);

// The console's pages are loaded when a manager opens one (lazy), not with
// the members' first page: a member's phone never downloads them.

// --- console-b ---
// The managers' console: money, devices, resources and rules, plans. Their
// entries for the console's navigation are in lib/console-nav-b.js.

routes.push(
  { path: '/console/money', lazy: () => import('./pages/console-money.js'), access: 'manager' },
  { path: '/console/devices', lazy: () => import('./pages/console-devices.js'), access: 'manager' },
  { path: '/console/resources', lazy: () => import('./pages/console-resources.js'), access: 'manager' },
  { path: '/console/plans', lazy: () => import('./pages/console-plans.js'), access: 'manager' },
);

// --- console-a ---
// The managers' console: Today is a manager's home (where signing in
// leads them), with its own navigation (lib/console-nav.js) on each page.

routes.push(
  { path: '/console', lazy: () => import('./pages/console/today.js'), access: 'manager', nav: 'console.nav.main' },
  { path: '/console/planning', lazy: () => import('./pages/console/planning.js'), access: 'manager' },
  { path: '/console/people', lazy: () => import('./pages/console/people.js'), access: 'manager' },
  { path: '/console/people/:id', lazy: () => import('./pages/console/person.js'), access: 'manager' },
);

// --- console-c ---
// The managers' console: crowdfunding campaigns (their imports and
// contributions), and the calendars' feed URLs with the site's webhooks.
// Their entries for the console's navigation are in lib/console-nav-c.js.

routes.push(
  { path: '/console/campaigns', lazy: () => import('./pages/console-campaigns.js'), access: 'manager' },
  { path: '/console/campaigns/:id', lazy: () => import('./pages/console-campaign.js'), access: 'manager' },
  { path: '/console/calendars', lazy: () => import('./pages/console-calendars.js'), access: 'manager' },
);
// --- services-app ---
// The ateliers and appointments. The public agenda of a site is open to
// anyone (a town's website links to it); a member's registrations and
// appointments, and booking one, are theirs; the animateur's and the
// desk's pages are the console's (lazy); a partner's agent reads their
// day at /partner (lazy too: its words are the console's).
import Agenda from './pages/agenda.js';
import Services from './pages/services.js';
import BookAppointment from './pages/appointment.js';

routes.push(
  { path: '/ateliers/:siteId', page: Agenda, access: 'any' },
  { path: '/services', page: Services, access: 'member', nav: 'servicesapp.nav' },
  { path: '/appointments/new', page: BookAppointment, access: 'member' },
  { path: '/partner', lazy: () => import('./pages/console/partner.js'), access: 'member' },
  { path: '/console/ateliers', lazy: () => import('./pages/console/ateliers.js'), access: 'manager' },
  { path: '/console/ateliers/:id', lazy: () => import('./pages/console/atelier.js'), access: 'manager' },
  // The attendance sheet opens to the atelier's animateurs too (the API decides).
  { path: '/console/ateliers/:id/sessions/:sessionId', lazy: () => import('./pages/console/attendance.js'), access: 'member' },
  { path: '/console/appointments', lazy: () => import('./pages/console/appointments.js'), access: 'manager' },
  { path: '/console/partners', lazy: () => import('./pages/console/partners.js'), access: 'manager' },
  { path: '/console/appointments/:id/slip', lazy: () => import('./pages/console/slip.js'), access: 'manager' },
);
navOrder.splice(navOrder.indexOf('nav.bookings') + 1, 0, 'servicesapp.nav');

// landingFor: where signing in leads when no page was asked for.
export function landingFor(me) {
  return isManager(me) ? '/console' : '/';
}

// --- console-d ---
// The network's pages (admins; a manager opening one is told it is the
// admins'): sites and managers, legal entities and the invoice chain's
// check, accounts, and the network's plans.
routes.push(
  { path: '/console/network', lazy: () => import('./pages/console/network.js'), access: 'manager' },
  { path: '/console/network/sites/:id', lazy: () => import('./pages/console/network-site.js'), access: 'manager' },
  { path: '/console/network/users', lazy: () => import('./pages/console/network-users.js'), access: 'manager' },
  { path: '/console/network/plans', lazy: () => import('./pages/console/network-plans.js'), access: 'manager' },
);
