// Running a page's work: errors from the API become a notice, refreshes stop with the page.

import { notice } from "./dom.js";
import { ApiError } from "./http.js";

const REFRESH_MS = 5000;
let timer = null;

export function stop() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

export async function run(fn) {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof ApiError) && !(error instanceof TypeError)) throw error;
    notice(error instanceof ApiError ? `${error.status}: ${error.message}` : `Request failed: ${error.message}`);
  }
}

// Runs fn every few seconds while the page that asked stays on screen.
export function every(fn) {
  stop();
  const page = document.body.dataset.page;
  timer = setInterval(() => (document.body.dataset.page === page ? run(fn) : stop()), REFRESH_MS);
}
