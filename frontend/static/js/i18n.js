// The browser's words in the page's language.
//
//   t("Raise my hand")                                  → "Lever la main" on a French page
//   t("{name} has the floor.", { name })                → placeholders in braces
//   tn("{count} seat connected.", "{count} seats connected.", n, { count: n })
//   tp("button", "Dissent")                             → a word whose sense needs a context
//
// base.html embeds the translations of these strings as a JSON data block
// (<script type="application/json" id="convene-i18n">, never executed), rendered from the
// page's language by app/i18n.py `js_catalog`; `pybabel extract` finds the strings through
// babel.cfg (keywords t, tn and tp), so the messages must be plain string literals.

const block = document.getElementById("convene-i18n");
let catalog = {};
try {
  catalog = block ? JSON.parse(block.textContent || "{}") || {} : {};
} catch {
  catalog = {};
}

/** The page's language ("en", "fr", "es"). */
export const lang = document.documentElement.lang || "en";

const plurals = (() => {
  try {
    return new Intl.PluralRules(lang);
  } catch {
    return null;
  }
})();

function fill(text, values) {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole);
}

/** A message in the page's language, with its {placeholders} filled from `values`. */
export function t(message, values) {
  const found = catalog[message];
  return fill(typeof found === "string" && found ? found : message, values);
}

/** A message with a context (a word that translates differently elsewhere, as in .po files). */
export function tp(context, message, values) {
  const found = catalog[`${context}\u0004${message}`];
  return fill(typeof found === "string" && found ? found : message, values);
}

/** A message that depends on a number: the singular or plural form for `n`. */
export function tn(singular, plural, n, values) {
  const found = catalog[singular];
  const one = plurals ? plurals.select(n) === "one" : n === 1;
  let text = one ? singular : plural;
  if (Array.isArray(found) && found.length >= 2) text = found[one ? 0 : 1] || text;
  return fill(text, values);
}
