// The console's words join the app's catalogues when a manager opens the
// console (its pages are loaded on demand, routes.js): a member's phone
// never downloads them. Imported for this effect by lib/console.js and
// lib/console-b.js, before any console page renders.
import { catalogues } from './i18n.js';
import fr from '../i18n/console-fr.js';
import en from '../i18n/console-en.js';

Object.assign(catalogues.fr, fr);
Object.assign(catalogues.en, en);
