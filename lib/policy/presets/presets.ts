/**
 * The built-in policies, embedded in the binary as text and loaded through the same parser and compiler
 * as policy files.
 *
 * @module
 */
import { McpTrustError } from "../../errors.ts";
import { BASELINE_YAML } from "./baseline.ts";
import { STRICT_YAML } from "./strict.ts";

const PRESETS: Readonly<Record<string, string>> = { baseline: BASELINE_YAML, strict: STRICT_YAML };

/** Preset names, sorted. */
export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS).sort();

/** Whether `name` is a preset. */
export function isPresetName(name: string): boolean {
  return Object.hasOwn(PRESETS, name);
}

/**
 * The YAML text of a preset.
 *
 * @throws {McpTrustError} (exit 2) naming the presets that exist
 */
export function presetYaml(name: string): string {
  if (!isPresetName(name)) {
    throw new McpTrustError(`unknown preset "${name}" (presets: ${PRESET_NAMES.join(", ")})`, {
      hint: "use --preset baseline or --preset strict, or --policy <file.yaml> for your own rules",
    });
  }
  return PRESETS[name];
}
