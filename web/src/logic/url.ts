/** Builds API request URLs from OpenAPI path templates ("/api/datasets/{slug}") and query values. */

export type PathValue = string | number | boolean;
export type QueryValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

export function buildApiUrl(
  template: string,
  path: Readonly<Record<string, PathValue>> = {},
  query: Readonly<Record<string, QueryValue>> = {},
): string {
  const resolved = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = path[name];
    if (value === undefined) throw new Error(`Missing path parameter '${name}' for ${template}.`);
    return encodeURIComponent(String(value));
  });
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value as readonly (string | number | boolean)[]) params.append(name, String(v));
    else params.append(name, String(value));
  }
  const search = params.toString();
  return search === '' ? resolved : `${resolved}?${search}`;
}
