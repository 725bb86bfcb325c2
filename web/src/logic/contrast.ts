/**
 * WCAG 2.x contrast: the relative luminance of sRGB colours and the ratio between two, and the colour variables of a
 * stylesheet in light and dark mode, so a test can hold the palette to AA (4.5:1 for text).
 */

/** The relative luminance of "#rrggbb" or "#rgb" (WCAG 2.x definition). */
export function luminance(hex: string): number {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  if (!/^[0-9a-fA-F]{6}$/.test(full)) throw new Error(`Not a hex colour: ${hex}`);
  const channel = (i: number): number => {
    const c = parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

/** (L1 + 0.05) / (L2 + 0.05), the lighter over the darker: 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The hex-valued custom properties of a stylesheet's ":root" blocks: those outside any media query (light), and those
 * with the dark-mode overrides applied on top (dark).
 */
export function paletteOf(css: string): { light: Record<string, string>; dark: Record<string, string> } {
  const light: Record<string, string> = {};
  const darkOnly: Record<string, string> = {};
  const withoutComments = css.replace(/\/\*[\s\S]*?\*\//g, '');
  const darkBlocks = /@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{([^}]*)\}\s*\}/g;
  for (const match of withoutComments.matchAll(darkBlocks)) Object.assign(darkOnly, variables(match[1]!));
  const rest = withoutComments.replace(darkBlocks, '');
  for (const match of rest.matchAll(/(?:^|\})\s*:root\s*\{([^}]*)\}/g)) Object.assign(light, variables(match[1]!));
  return { light, dark: { ...light, ...darkOnly } };
}

function variables(block: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const m of block.matchAll(/--([\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\s*;/g)) found[m[1]!] = m[2]!;
  return found;
}
