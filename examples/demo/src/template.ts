/**
 * The proxy examples under examples/<proxy>/ are templates with `{{NAME}}`
 * placeholders for ports and paths; the demo and the reverse-proxy suite
 * render them with this.
 */
const PLACEHOLDER = /\{\{([A-Z_]+)\}\}/g;

/** Replaces every placeholder; a placeholder without a value is an error. */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for the placeholder {{${name}}}`);
    return value;
  });
}
