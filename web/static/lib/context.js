// What every page receives: the language and its words, the member (null
// when signed out), the API client, and the live region's announcer.
import { createContext, useContext } from './ui.js';

export const AppContext = createContext(null);

export function useApp() {
  return useContext(AppContext);
}
