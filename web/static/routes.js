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
  { path: '/account', page: Account, access: 'member', nav: 'nav.account' },
  { path: '/sign-in', page: SignIn, access: 'guest' },
  { path: '/sign-up', page: SignUp, access: 'guest' },
  { path: '/forgot-password', page: ForgotPassword, access: 'guest' },
  // The targets of mailed links (identity builds them from PUBLIC_URL).
  { path: '/verify-email', page: VerifyEmail, access: 'any' },
  { path: '/reset-password', page: ResetPassword, access: 'any' },
  // --- book ---
  { path: '/book', page: Book, access: 'member', nav: 'nav.book' },
  { path: '/bookings', page: Bookings, access: 'member', nav: 'nav.bookings' },
];

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
