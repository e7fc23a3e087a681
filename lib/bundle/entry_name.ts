/**
 * Rules for entry names in an approval bundle, applied when writing and when reading, so that a bundle
 * can be unpacked anywhere without writing outside the target directory or clobbering a file.
 *
 * @module
 */

/** Longest entry name accepted. */
export const MAX_ENTRY_NAME_LENGTH = 255;

/**
 * Why `name` is not a safe bundle entry name, or undefined if it is.
 *
 * Refused: empty or over 255 characters; control characters; backslashes (a path separator on
 * Windows); absolute paths; drive letters (`C:`); empty, `.` or `..` segments; a trailing `/`
 * (directory entries: bundles hold files only).
 */
export function unsafeEntryNameReason(name: string): string | undefined {
  if (name.length === 0) return "an empty name";
  if (name.length > MAX_ENTRY_NAME_LENGTH) return `a name longer than ${MAX_ENTRY_NAME_LENGTH} characters`;
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) return "a control character in the name";
  if (name.includes("\\")) return "a backslash in the name";
  if (name.startsWith("/")) return "an absolute path";
  if (/^[A-Za-z]:/.test(name)) return "a drive letter";
  if (name.endsWith("/")) return "a directory entry";
  for (const seg of name.split("/")) {
    if (seg === "" || seg === "." || seg === "..") return `a "${seg || "//"}" path segment`;
  }
  return undefined;
}

/**
 * A key under which two names collide on case-insensitive or normalizing file systems (macOS, Windows),
 * so `README.txt` and `readme.TXT`, or NFC and NFD spellings, count as duplicates.
 */
export function collisionKey(name: string): string {
  return name.normalize("NFC").toLowerCase();
}
