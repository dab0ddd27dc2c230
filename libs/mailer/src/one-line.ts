/**
 * Free text (a user's, an organisation's or a key's name) as it may appear in a mail:
 * control characters and line separators flattened to a space, so a name can neither
 * add a header line to a subject nor forge lines of the body. Names are refused with
 * such characters at the API (IsDisplayName); this holds for rows stored before that.
 */
export function oneLine(value: string): string {
  return value.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim();
}
