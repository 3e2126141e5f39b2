// A JS string is the UTF-16 image of some text; it has a valid UTF-8 form unless it holds a
// lone surrogate. That is the only way a string field can be "not UTF-8" once decoded.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string can be written as valid UTF-8 (no lone surrogates). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
