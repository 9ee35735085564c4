/**
 * The status page: one self-contained HTML document (every asset inline, see status/) that polls the JSON API:
 * /api/v1/summary every 2 s, /api/v1/incidents when the incidents change, /api/v1/series for the targets shown open.
 * Everything shown is read from the API, so the page never knows more than the API.
 */
import { statusDocument } from './status/page-html.js';

export function statusPageHtml(version: string): string {
  return statusDocument(version);
}
