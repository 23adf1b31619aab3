// The one import of the vendored library: every module takes Preact, its
// hooks and htm from here, so that an upgrade changes one line.
export {
  html, render, createContext, useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useContext,
} from '../vendor/htm-preact-standalone-3.1.1.mjs';
