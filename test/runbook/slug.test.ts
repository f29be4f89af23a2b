import { describe, expect, it } from 'vitest';
import { Slugger, slugify } from '../../lib/runbook/slug.ts';

// Expected anchors are the ones GitHub shows for these headings.
describe('GitHub heading slugs', () => {
  it.each([
    ['Provisioning the YubiHSM 2', 'provisioning-the-yubihsm-2'],
    ['Provisioning the Nitrokey HSM', 'provisioning-the-nitrokey-hsm'],
    ['Post-ceremony', 'post-ceremony'],
    ['Prepare the environment', 'prepare-the-environment'],
    ['What?! (Really)', 'what-really'],
    ['A  double  space', 'a--double--space'],
    ['snake_case stays', 'snake_case-stays'],
    ['Über Größe', 'über-größe'],
    ['`code` in a heading', 'code-in-a-heading'],
    // Regressions: github-slugger drops every number that is not a decimal
    // or letter number, and keeps symbols that are alphabetic.
    ['Step ½ of ① ²', 'step--of--'],
    ['Phase Ⅻ', 'phase-ⅻ'],
    ['Ⓐ circled', 'ⓐ-circled'],
    ['en–dash — em', 'endash--em'],
    ['I ♥ keys', 'i--keys'],
  ])('%s → %s', (title, slug) => {
    expect(slugify(title)).toBe(slug);
  });

  it('numbers repeats in document order', () => {
    const s = new Slugger();
    expect(['Notes', 'Notes', 'Notes'].map((t) => s.slug(t))).toEqual(['notes', 'notes-1', 'notes-2']);
  });

  it('skips a number a literal heading already took', () => {
    const s = new Slugger();
    expect(['Notes', 'Notes-1', 'Notes'].map((t) => s.slug(t))).toEqual(['notes', 'notes-1', 'notes-2']);
  });
});
