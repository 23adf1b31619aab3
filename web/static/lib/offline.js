// Offline reading: the service worker (/sw.js, web/sw.js) keeps the
// app's files and the home page's reads for a signed-in member. It is
// registered once someone signs in (nothing is kept for a visitor), and
// what it keeps of the member goes when they sign out.

const dataCache = 'relais-data';

export function registerServiceWorker() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(() => {
      // No worker (a private window may refuse it): the app works online.
    });
  }
}

export async function clearOfflineData() {
  try {
    if ('caches' in self) {
      await caches.delete(dataCache);
    }
    if ('serviceWorker' in navigator && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage('signed-out');
    }
  } catch {
    // Storage refused: there was nothing kept either.
  }
}
