import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { contrastRatio, paletteOf } from '../src/logic/contrast';

// The stylesheet the app serves (the test bundle runs from web/.test-out).
const css = readFileSync(new URL('../public/app.css', import.meta.url), 'utf8');

/** Text colours and the backgrounds they are drawn on. */
const TextPairs: readonly [string, string][] = [
  ['text', 'background'], ['text', 'surface'], ['text', 'notice-surface'], ['text', 'danger-surface'],
  ['muted', 'background'], ['muted', 'surface'], ['muted', 'notice-surface'],
  ['accent', 'background'], ['accent', 'surface'], ['accent-text', 'accent'],
  ['danger', 'background'], ['danger', 'danger-surface'],
  ['success', 'background'], ['success', 'surface'], ['human-text', 'background'],
];

describe('contrast', () => {
  it('computes WCAG ratios', () => {
    assert.equal(contrastRatio('#000', '#fff'), 21);
    assert.equal(contrastRatio('#777777', '#777777'), 1);
    assert.ok(Math.abs(contrastRatio('#767676', '#ffffff') - 4.54) < 0.01);
  });

  it('reads the light palette and the dark overrides', () => {
    const palette = paletteOf(':root { --a: #fff; --gap: 1rem; }\n@media (prefers-color-scheme: dark) { :root { --a: #000; } }');
    assert.deepEqual(palette.light, { a: '#fff' });
    assert.deepEqual(palette.dark, { a: '#000' });
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`holds every text colour to WCAG AA (4.5:1) in ${scheme} mode`, () => {
      const palette = paletteOf(css)[scheme];
      for (const [text, background] of TextPairs) {
        const fg = palette[text], bg = palette[background];
        assert.ok(fg && bg, `--${text} or --${background} is missing in ${scheme} mode`);
        const ratio = contrastRatio(fg, bg);
        assert.ok(ratio >= 4.5, `--${text} ${fg} on --${background} ${bg}: ${ratio.toFixed(2)}:1 in ${scheme} mode`);
      }
    });
  }
});
