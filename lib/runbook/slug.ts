/**
 * GitHub's heading anchors (the algorithm of github-slugger, which mirrors
 * GitHub's renderer), so that `[Provisioning the YubiHSM 2](#provisioning-the-yubihsm-2)`
 * in RUNBOOK.md works both for `runbook` and for a reader on GitHub: the
 * heading's text as rendered (not trimmed), lowercased; every character
 * dropped except letters, marks, decimal and letter numbers (`2`, `Ⅻ`, not
 * `½` or `①`), connector punctuation (`_`), other alphabetic characters
 * (`Ⓐ`), spaces and `-`; then each space becomes a hyphen. A repeated slug
 * gets `-1`, `-2`, … in document order.
 */
const DROPPED = /[^\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\p{Alphabetic} -]/gu;

export function slugify(title: string): string {
  return title.toLowerCase().replace(DROPPED, '').replace(/ /g, '-');
}

/** Hands out slugs for one document, numbering repeats as GitHub does. */
export class Slugger {
  private readonly occurrences = new Map<string, number>();

  slug(title: string): string {
    const base = slugify(title);
    let result = base;
    // A generated `-1` may itself collide with a heading literally ending in
    // `-1`: keep counting on the base slug until the result is free.
    while (this.occurrences.has(result)) {
      const n = (this.occurrences.get(base) ?? 0) + 1;
      this.occurrences.set(base, n);
      result = `${base}-${n}`;
    }
    this.occurrences.set(result, 0);
    return result;
  }
}
